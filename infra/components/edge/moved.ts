/**
 * Options of a resource inside one of the edge's child components. Before the edge was split
 * into child components (2026-11-29) every one of these resources was a direct child of the
 * Edge component; the alias keeps each resource's old URN valid, so a deployed stack updates
 * in place (the engine matches the alias) instead of deleting and recreating the function, the
 * API, the certificate or the domain. https://www.pulumi.com/docs/iac/concepts/options/aliases/
 */
import type * as pulumi from '@pulumi/pulumi'

export function movedChild(
  component: pulumi.ComponentResource,
  formerParent: pulumi.Resource | undefined,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  return { parent: component, ...(formerParent ? { aliases: [{ parent: formerParent }] } : {}), ...extra }
}
