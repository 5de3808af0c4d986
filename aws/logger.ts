/**
 * The one logger every function writes with: Powertools' structured JSON lines, one per event,
 * with the request id and cold start added by the handler plumbing (handlers/lambda.ts). The
 * service name and level can be changed per deployment with POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_LOG_LEVEL.
 */
import { Logger } from "@aws-lambda-powertools/logger";

export const logger = new Logger({ serviceName: "modeldrop", logLevel: "INFO" });
