// STS over the query protocol: GetCallerIdentity, which clients call to learn the account they
// act in (`aws sts get-caller-identity`, the SageMaker Python SDK's telemetry and default-bucket
// name, Terraform's AWS provider). The local cloud has one account and verifies no credentials
// (local/README.md), so whatever key signed the request, the caller is that account's root user.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AwsError } from "./http.js";
import { serveQuery } from "./query-service.js";

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
const VERSION = "2011-06-15";

export class StsService {
  constructor(private readonly account: string) {}

  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return serveQuery(XMLNS, (action) => this.dispatch(action), req, res);
  }

  private dispatch(action: string): string {
    if (action === "GetCallerIdentity") {
      const { account } = this;
      return `<UserId>${account}</UserId><Account>${account}</Account><Arn>arn:aws:iam::${account}:root</Arn>`;
    }
    // STS's own answer to an action it does not have, naming what the local cloud serves.
    throw new AwsError(
      "InvalidAction",
      `Could not find operation ${action || "(none)"} for version ${VERSION} (the local cloud serves GetCallerIdentity)`,
    );
  }
}
