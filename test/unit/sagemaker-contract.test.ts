import { describe, expect, it } from "vitest";
import { resourceConfig, trainingContract } from "../../local/sagemaker-contract.js";

const contract = (hyperparameters: Record<string, string>, optMl = "/opt/ml") =>
  trainingContract({
    name: "churn-train",
    arn: "arn:aws:sagemaker:us-east-1:000000000000:training-job/churn-train",
    region: "us-east-1",
    optMl,
    hyperparameters,
    inputDataConfig: {
      validation: { TrainingInputMode: "File" },
      train: { TrainingInputMode: "File" },
    },
    resourceConfig: resourceConfig("ml.m5.xlarge"),
  });

describe("the training toolkit's view of a job", () => {
  it("passes user hyperparameters as sorted arguments, decoded as the toolkit decodes them", () => {
    const { args } = contract({
      sagemaker_program: '"train.py"',
      sagemaker_submit_directory: '"s3://b/code/sourcedir.tar.gz"',
      zeta: "1.0",
      b: "true",
      alpha: '"a b"',
      layers: "[64, 32]",
      opts: '{"y": 2, "x": "v"}',
    });

    expect(args).toEqual([
      "--alpha",
      "a b",
      "-b",
      "True",
      "--layers",
      "[64, 32]",
      "--opts",
      "x=v,y=2",
      "--zeta",
      "1.0",
    ]);
  });

  it("formats the SM_* variables as mapping.to_env_vars does", () => {
    const { env } = contract({ sagemaker_program: "train.py", epochs: "10", rate: "1.0" });

    expect(env).toMatchObject({
      SM_HPS: '{"epochs":10,"rate":1.0}',
      SM_HP_EPOCHS: "10",
      SM_HP_RATE: "1.0",
      SM_CHANNELS: '["train","validation"]',
      SM_CHANNEL_TRAIN: "/opt/ml/input/data/train",
      SM_FRAMEWORK_MODULE: "",
      SM_IS_HETERO: "false",
      SM_MODULE_NAME: "train",
      SM_CURRENT_INSTANCE_TYPE: "ml.m5.xlarge",
      TRAINING_JOB_NAME: "churn-train",
      CURRENT_HOST: "algo-1",
    });
    expect(env.SM_RESOURCE_CONFIG).toBe(
      '{"current_group_name":"homogeneousCluster","current_host":"algo-1","current_instance_type":"ml.m5.xlarge","hosts":["algo-1"],"instance_groups":[{"hosts":["algo-1"],"instance_group_name":"homogeneousCluster","instance_type":"ml.m5.xlarge"}],"network_interface_name":"eth0"}',
    );
  });

  it("puts framework parameters aside and lets a distribution flag name the group", () => {
    const { env } = contract({
      sagemaker_program: "train.py",
      sagemaker_torch_distributed_enabled: "true",
    });

    expect(JSON.parse(String(env.SM_TRAINING_ENV))).toMatchObject({
      additional_framework_parameters: { sagemaker_torch_distributed_enabled: true },
      distribution_instance_groups: ["homogeneousCluster"],
      distribution_hosts: ["algo-1"],
      hyperparameters: {},
      is_master: true,
      master_hostname: "algo-1",
    });
  });

  it("points every path at the job folder where the job has no /opt/ml of its own", () => {
    const { env } = contract({ sagemaker_program: "train.py" }, "/state/jobs/Training/churn");

    expect(env.SM_MODEL_DIR).toBe("/state/jobs/Training/churn/model");
    expect(env.SM_CHANNEL_VALIDATION).toBe("/state/jobs/Training/churn/input/data/validation");
    expect(JSON.parse(String(env.SM_TRAINING_ENV)).output_data_dir).toBe(
      "/state/jobs/Training/churn/output/data",
    );
  });
});
