// SSM Parameter Store: String, StringList and SecureString parameters. SecureString values are
// kept encrypted on disk with a key of the state directory's own (standing in for KMS) and are
// returned in clear only with WithDecryption, as on AWS.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readJsonFile, writeFileAtomic, writeJsonAtomic } from "./files.js";
import { AwsError } from "./http.js";
import { type JsonService, optionalString, requireString } from "./json-service.js";

interface Parameter {
  name: string;
  type: "String" | "StringList" | "SecureString";
  /** Clear text, or for SecureString `iv.tag.ciphertext` in base64. */
  value: string;
  version: number;
  lastModified: number;
  description?: string;
}

export class SsmService implements JsonService {
  readonly contentType = "application/x-amz-json-1.1";
  private readonly path: string;
  private readonly key: Buffer;
  private parameters: Record<string, Parameter>;

  constructor(
    stateDir: string,
    private readonly region: string,
    private readonly account: string,
  ) {
    this.path = join(stateDir, "ssm", "parameters.json");
    const keyPath = join(stateDir, "ssm", "local-kms.key");
    if (!existsSync(keyPath)) writeFileAtomic(keyPath, randomBytes(32));
    this.key = readFileSync(keyPath);
    this.parameters = readJsonFile(this.path, {}) as Record<string, Parameter>;
  }

  readonly operations = {
    PutParameter: (input: Record<string, unknown>) => this.putParameter(input),
    GetParameter: (input: Record<string, unknown>) => ({
      Parameter: this.describe(
        this.find(requireString(input, "Name")),
        input.WithDecryption === true,
      ),
    }),
    GetParameters: (input: Record<string, unknown>) => {
      const names = Array.isArray(input.Names)
        ? input.Names.filter((n): n is string => typeof n === "string")
        : [];
      const found = names.flatMap((n) =>
        this.parameters[n]
          ? [this.describe(this.parameters[n], input.WithDecryption === true)]
          : [],
      );
      return { Parameters: found, InvalidParameters: names.filter((n) => !this.parameters[n]) };
    },
    GetParametersByPath: (input: Record<string, unknown>) => {
      const path = requireString(input, "Path").replace(/\/?$/, "/");
      const recursive = input.Recursive === true;
      const found = Object.values(this.parameters).filter(
        (p) => p.name.startsWith(path) && (recursive || !p.name.slice(path.length).includes("/")),
      );
      return { Parameters: found.map((p) => this.describe(p, input.WithDecryption === true)) };
    },
    DeleteParameter: (input: Record<string, unknown>) => {
      const name = this.find(requireString(input, "Name")).name;
      delete this.parameters[name];
      this.save();
      return {};
    },
  };

  /** In-process read for the local cloud itself (the API token lives here). */
  read(name: string): string | undefined {
    const parameter = this.parameters[name];
    return parameter ? this.clear(parameter) : undefined;
  }

  put(name: string, value: string, type: Parameter["type"], overwrite: boolean): number {
    const existing = this.parameters[name];
    if (existing && !overwrite)
      throw new AwsError(
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
      );
    if (value.length === 0 || Buffer.byteLength(value) > 8192) {
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length between 1 and 8192`,
      );
    }
    const version = (existing?.version ?? 0) + 1;
    this.parameters[name] = {
      name,
      type,
      value: type === "SecureString" ? this.encrypt(value) : value,
      version,
      lastModified: Date.now(),
    };
    this.save();
    return version;
  }

  private putParameter(input: Record<string, unknown>): unknown {
    const name = requireString(input, "Name");
    const type = optionalString(input, "Type") ?? this.parameters[name]?.type ?? "String";
    if (type !== "String" && type !== "StringList" && type !== "SecureString") {
      throw new AwsError(
        "ValidationException",
        `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      );
    }
    return {
      Version: this.put(name, requireString(input, "Value"), type, input.Overwrite === true),
      Tier: "Standard",
    };
  }

  private find(name: string): Parameter {
    const parameter = this.parameters[name];
    if (!parameter) throw new AwsError("ParameterNotFound", `Parameter ${name} not found.`);
    return parameter;
  }

  private describe(p: Parameter, decrypt: boolean): Record<string, unknown> {
    return {
      Name: p.name,
      Type: p.type,
      Value: p.type === "SecureString" && !decrypt ? p.value : this.clear(p),
      Version: p.version,
      LastModifiedDate: p.lastModified / 1000,
      ARN: `arn:aws:ssm:${this.region}:${this.account}:parameter/${p.name.replace(/^\//, "")}`,
      DataType: "text",
    };
  }

  private clear(p: Parameter): string {
    if (p.type !== "SecureString") return p.value;
    const [iv, tag, data] = p.value.split(".").map((part) => Buffer.from(part, "base64"));
    if (!iv || !tag || !data)
      throw new AwsError("InternalServerError", `parameter ${p.name} is corrupt`, 500);
    const decipher = createDecipheriv("aes-256-gcm", this.key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8");
  }

  private encrypt(value: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const data = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
    return [iv, cipher.getAuthTag(), data].map((b) => b.toString("base64")).join(".");
  }

  private save(): void {
    writeJsonAtomic(this.path, this.parameters);
  }
}
