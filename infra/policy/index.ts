/**
 * The policy pack: `pulumi preview|up --policy-pack dist/policy-pack` after
 * `npm run build:policy` (infra/policy/build.ts bundles this file for the CLI's policy runner).
 */
import { PolicyPack } from '@pulumi/policy'
import { allPolicies } from './rules.js'

new PolicyPack('pennyworth', {
  description:
    'Pennyworth infrastructure rules: least-privilege IAM, protected data, bounded logs, ' +
    'throttled stages, Lambda limits',
  enforcementLevel: 'mandatory',
  policies: allPolicies,
})
