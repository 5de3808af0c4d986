/**
 * SageMaker hosting: a model and an endpoint config per deployment, the endpoint itself, and
 * sagemaker-runtime's InvokeEndpoint. Deletions are idempotent: what SageMaker no longer has
 * counts as deleted.
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeModelCommand,
  type ProductionVariant,
  ProductionVariantInstanceType,
  type SageMakerClient,
  type EndpointStatus as SageMakerEndpointStatus,
  type Tag,
  UpdateEndpointCommand,
} from "@aws-sdk/client-sagemaker";
import {
  InvokeEndpointCommand,
  ModelError,
  type SageMakerRuntimeClient,
  ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import type { ContainerSpec, Hosting, InvokeAnswer } from "../app/ports.js";
import type { EndpointSettings, EndpointState, EndpointStatus } from "../core/endpoints.js";

/**
 * SageMaker's endpoint statuses as core's. The ones core does not name go to the nearest:
 * OutOfService (taking no requests) and UpdateRollbackFailed (an update and its rollback both
 * failed, the variants left mixed) are Failed, since a person has to act; RollingBack and
 * SystemUpdating are Updating, since SageMaker is still working and ends InService or Failed.
 */
const STATUSES: Record<SageMakerEndpointStatus, EndpointStatus> = {
  Creating: "Creating",
  InService: "InService",
  Updating: "Updating",
  Failed: "Failed",
  Deleting: "Deleting",
  OutOfService: "Failed",
  RollingBack: "Updating",
  SystemUpdating: "Updating",
  UpdateRollbackFailed: "Failed",
};

/** SageMaker's answer for a model, endpoint config or endpoint it does not have (a ValidationException). */
function isNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === "ValidationException" &&
    error.message.includes("Could not find")
  );
}

/** sagemaker-runtime's answer for an endpoint that does not exist (or is not in service). */
function isUnknownEndpoint(error: unknown): error is ValidationError {
  return error instanceof ValidationError && /^Endpoint .+ not found/.test(error.message);
}

async function unlessGone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

function tagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

const INSTANCE_TYPES: ReadonlySet<string> = new Set(Object.values(ProductionVariantInstanceType));

function isInstanceType(value: string): value is ProductionVariantInstanceType {
  return INSTANCE_TYPES.has(value);
}

function variant(modelName: string, settings: EndpointSettings): ProductionVariant {
  const base = { VariantName: "AllTraffic", ModelName: modelName };
  if (settings.mode === "serverless")
    return {
      ...base,
      ServerlessConfig: {
        MemorySizeInMB: settings.memorySizeMb,
        MaxConcurrency: settings.maxConcurrency,
      },
    };
  if (!isInstanceType(settings.instanceType))
    throw new Error(
      `${settings.instanceType} is not an instance type SageMaker hosts endpoints on`,
    );
  return {
    ...base,
    InstanceType: settings.instanceType,
    InitialInstanceCount: settings.instanceCount,
    InitialVariantWeight: 1,
  };
}

export class SageMakerHosting implements Hosting {
  constructor(
    private readonly sagemaker: SageMakerClient,
    private readonly runtime: SageMakerRuntimeClient,
    /** The endpoints' execution role: reads model artifacts and writes logs, nothing else. */
    private readonly roleArn: string,
  ) {}

  async container(modelName: string): Promise<ContainerSpec> {
    const model = await this.sagemaker.send(new DescribeModelCommand({ ModelName: modelName }));
    const primary = model.PrimaryContainer;
    if (!primary?.Image || !primary.ModelDataUrl)
      throw new Error(
        `SageMaker model ${modelName} has no primary container with an image and model data to serve`,
      );
    return {
      image: primary.Image,
      modelDataUrl: primary.ModelDataUrl,
      environment: primary.Environment ?? {},
    };
  }

  async createModel(
    name: string,
    container: ContainerSpec,
    tags: Record<string, string>,
  ): Promise<void> {
    await this.sagemaker.send(
      new CreateModelCommand({
        ModelName: name,
        ExecutionRoleArn: this.roleArn,
        PrimaryContainer: {
          Image: container.image,
          ModelDataUrl: container.modelDataUrl,
          Environment: container.environment,
        },
        Tags: tagList(tags),
      }),
    );
  }

  async createEndpointConfig(
    name: string,
    modelName: string,
    settings: EndpointSettings,
    tags: Record<string, string>,
  ): Promise<void> {
    await this.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: name,
        ProductionVariants: [variant(modelName, settings)],
        Tags: tagList(tags),
      }),
    );
  }

  async createEndpoint(
    name: string,
    configName: string,
    tags: Record<string, string>,
  ): Promise<void> {
    await this.sagemaker.send(
      new CreateEndpointCommand({
        EndpointName: name,
        EndpointConfigName: configName,
        Tags: tagList(tags),
      }),
    );
  }

  async updateEndpoint(name: string, configName: string): Promise<void> {
    await this.sagemaker.send(
      new UpdateEndpointCommand({ EndpointName: name, EndpointConfigName: configName }),
    );
  }

  async deleteEndpoint(name: string): Promise<void> {
    await unlessGone(this.sagemaker.send(new DeleteEndpointCommand({ EndpointName: name })));
  }

  async describeEndpoint(name: string): Promise<EndpointState> {
    try {
      const endpoint = await this.sagemaker.send(
        new DescribeEndpointCommand({ EndpointName: name }),
      );
      const status = endpoint.EndpointStatus;
      if (status === undefined || !Object.hasOwn(STATUSES, status))
        throw new Error(
          `SageMaker endpoint ${name} has a status modeldrop does not know: ${status}`,
        );
      return {
        name,
        status: STATUSES[status],
        configName: endpoint.EndpointConfigName,
        failureReason: endpoint.FailureReason,
      };
    } catch (error) {
      if (isNotFound(error)) return { name, status: "Deleted" };
      throw error;
    }
  }

  /** The deployment's endpoint config, then its model (the config names the model). */
  async deleteDeployment(name: string): Promise<void> {
    await unlessGone(
      this.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name })),
    );
    await unlessGone(this.sagemaker.send(new DeleteModelCommand({ ModelName: name })));
  }

  async invoke(
    name: string,
    body: Buffer,
    contentType: string,
    accept: string,
  ): Promise<InvokeAnswer> {
    try {
      const answer = await this.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: name,
          Body: body,
          ContentType: contentType,
          Accept: accept,
        }),
      );
      return {
        ok: true,
        body: Buffer.from(answer.Body ?? new Uint8Array()),
        contentType: answer.ContentType ?? accept,
      };
    } catch (error) {
      if (error instanceof ModelError)
        return {
          ok: false,
          // SageMaker always says the status the model's container answered; should one
          // ever come without it, it is still the model's error, not a missing endpoint.
          status: error.OriginalStatusCode ?? 500,
          message: error.OriginalMessage ?? error.message,
        };
      if (isUnknownEndpoint(error)) return { ok: false, status: undefined, message: error.message };
      throw error;
    }
  }
}
