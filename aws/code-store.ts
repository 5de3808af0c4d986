/** The code registry (Code table, aws/versioned-items.ts): users' scripts by name and version. */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { CodeRegistry } from "../app/ports.js";
import { CodeVersion } from "../core/code-registry.js";
import { parseStored } from "../core/errors.js";
import { VersionedItems } from "./versioned-items.js";

export class CodeStore implements CodeRegistry {
  private readonly items: VersionedItems<CodeVersion>;

  constructor(db: DynamoDBDocumentClient, table: string) {
    this.items = new VersionedItems(db, {
      table,
      nameKey: "codeName",
      listed: "code",
      noun: "code",
      parse: (item) =>
        parseStored(
          CodeVersion,
          item,
          `version ${String(item.version)} of code ${String(item.codeName)} in the Code table`,
        ),
    });
  }

  nextVersion(codeName: string): Promise<number> {
    return this.items.nextVersion(codeName);
  }

  put(version: CodeVersion): Promise<void> {
    return this.items.putNew(version);
  }

  get(codeName: string, version: number): Promise<CodeVersion | undefined> {
    return this.items.get(codeName, version);
  }

  newest(codeName: string): Promise<CodeVersion | undefined> {
    return this.items.newest(codeName);
  }

  versions(codeName: string): Promise<CodeVersion[]> {
    return this.items.versions(codeName);
  }

  names(limit: number, cursor?: string) {
    return this.items.names(limit, cursor);
  }
}
