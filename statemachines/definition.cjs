// Serverless variable source: the ASL file as a string, for DefinitionString. Loading the JSON
// with ${file(...)} would turn it into YAML and drop every `"ResultPath": null`, changing what
// the states do; a string reaches CloudFormation (and the local cloud) exactly as written.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

module.exports.trainingPipeline = () =>
  JSON.stringify(JSON.parse(readFileSync(join(__dirname, "training-pipeline.asl.json"), "utf8")));
