/** SecureString parameters, read at run time (never from the environment) and cached briefly. */
import { GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import type { SecretReader } from "../app/ports.js";

const CACHE_MS = 5 * 60 * 1000;

export class SsmSecrets implements SecretReader {
  private readonly cache = new Map<string, { value: string | undefined; until: number }>();

  constructor(private readonly ssm: SSMClient) {}

  /** The decrypted value, or undefined when the parameter does not exist. */
  async read(name: string): Promise<string | undefined> {
    const cached = this.cache.get(name);
    if (cached && cached.until > Date.now()) return cached.value;
    let value: string | undefined;
    try {
      const found = await this.ssm.send(
        new GetParameterCommand({ Name: name, WithDecryption: true }),
      );
      value = found.Parameter?.Value;
    } catch (error) {
      if (!(error instanceof Error && error.name === "ParameterNotFound")) throw error;
    }
    this.cache.set(name, { value, until: Date.now() + CACHE_MS });
    return value;
  }
}
