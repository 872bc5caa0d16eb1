/**
 * Cost-allocation tags. Every program creates its AWS provider with `defaultTags` carrying all
 * four keys, so every taggable resource gets them without anyone remembering to add them; a
 * resource may narrow `Component` (e.g. one table) with its own `tags`, which the AWS provider
 * merges over the defaults. The policy pack's `aws-cost-allocation-tags` rule checks the merged
 * result. infra/README.md explains activating them for Cost Explorer. Pure (no @pulumi/aws):
 * the policy pack imports it.
 */
import type { ProgramName } from './stacks.js'

/** The tag keys every taggable resource carries. */
export const TAG_KEYS = ['Project', 'Environment', 'Stack', 'Component'] as const
export type TagKey = (typeof TAG_KEYS)[number]
export type Tags = Record<TagKey, string>

/** The provider-level tags of one program in one environment: `Component` defaults to the stack. */
export function defaultTags(args: { project: string; environment: string; stack: ProgramName }): Tags {
  return { Project: args.project, Environment: args.environment, Stack: args.stack, Component: args.stack }
}

/** A resource's own tags: narrows `Component` (merged over the provider's defaults). */
export function componentTags(component: string): { Component: string } {
  return { Component: component }
}
