import { discard, type Synthesized, synthesize, testConfig } from './helpers/synth.js';
import { securitySuite } from './suites/security.js';
import { templatePropertiesSuite } from './suites/template-properties.js';

/**
 * The default stage (cdk.json's settings, with an alarm email), synthesized once for every suite: the first synth
 * of a test file loads aws-cdk-lib, cdk-nag and CloudFormation's validation rules, which is most of its cost.
 */
const ALARM_EMAIL = 'oncall@example.com';
let synthesized: Synthesized;

beforeAll(() => {
  synthesized = synthesize(testConfig({ alarmEmail: ALARM_EMAIL }));
}, 120_000);

afterAll(() => discard(synthesized));

const stage = () => synthesized;

templatePropertiesSuite(stage, ALARM_EMAIL);
securitySuite(stage);
