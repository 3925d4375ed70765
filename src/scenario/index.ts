export { SCENARIO_SCHEMA_PATH, scenarioSchema, scenarioErrors, isValidScenario, type Scenario, type ScenarioCase, type DurationValue } from './validate.js';
export { parseScenario, parseScenarioText, readScenarioFile, scenarioCheckOptions, SCENARIO_EXTENSIONS } from './load.js';
export { renderStarter, renderStarterJson, renderStarterYaml, starterScenario, STARTER_FORMATS, type StarterFormat } from './starter.js';
