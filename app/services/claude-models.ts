/**
 * Anthropic's own model names on this gateway, so Anthropic clients (Claude Code, the SDKs)
 * work with no model settings: dated ids (`claude-sonnet-4-5-20250929`), `-latest` aliases and
 * the `[1m]` long-context suffix resolve to catalog models; an id no catalog lists yet
 * (`claude-opus-4-8`) resolves to the newest served model of its family (opus / sonnet / haiku)
 * that the key may use, unless the operator switched that off.
 * https://docs.anthropic.com/en/docs/about-claude/models/overview
 */
import { modelNotFound } from '../errors.js'
import { ApiError } from '../errors.js'
import type { CatalogModel } from '../schemas/catalog.js'
import type { ModelRegistry } from './catalog.js'
import { keyAllowsModel, type KeyPrincipal } from './keys.js'
import { resolveServedModel } from './model-calls.js'

/** The model a Claude name resolved to; `substitutedFor` is set when it is not the model asked for. */
export interface ClaudeModel {
  model: CatalogModel
  /** The name the client sent, when the served model differs from it (fallback or dropped `[1m]`). */
  substitutedFor?: string
}

const FAMILY = /^claude-(?:(opus|sonnet|haiku)-|\d+(?:-\d+)?-(opus|sonnet|haiku)\b)/

/** `claude-<family>-<major>-<minor>` or `claude-<major>-<minor>-<family>` → [family, version]. */
export function claudeFamily(id: string): { family: string; version: number } | undefined {
  const m =
    /^claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?:\b|$)/.exec(id) ??
    /^claude-(\d+)(?:-(\d{1,2}))?-(opus|sonnet|haiku)/.exec(id)
  if (!m) return undefined
  if (/^\d/.test(m[1])) return { family: m[3], version: Number(m[1]) + Number(m[2] ?? 0) / 100 }
  return { family: m[1], version: Number(m[2]) + Number(m[3] ?? 0) / 100 }
}

/**
 * Resolves a Claude model name for `principal`.
 * @param fallback serve the newest model of the family for unlisted `claude-<family>-…` ids.
 * @throws ApiError 404 (naming the served Claude ids when the fallback is off), 403, 400.
 */
export function resolveClaudeModel(
  registry: ModelRegistry,
  name: string,
  principal: KeyPrincipal,
  fallback: boolean,
): ClaudeModel {
  let base = name
  let longContextDropped = false
  if (base.endsWith('[1m]')) {
    base = base.slice(0, -4)
    longContextDropped = true
  }
  const candidates = [
    base,
    base.replace(/-\d{8}$/, ''),
    base.replace(/-latest$/, ''),
    base.replace(/-v\d+(:\d+)?$/, ''),
  ]
  for (const candidate of candidates) {
    if (registry.resolve(candidate)) {
      const model = resolveServedModel(registry, candidate, principal, 'chat')
      return longContextDropped ? { model, substitutedFor: name } : { model }
    }
  }
  const wanted = FAMILY.test(base) ? claudeFamily(base) : undefined
  if (wanted && fallback) {
    const newest = registry
      .list()
      .filter((m) => m.kind === 'chat' && keyAllowsModel(principal, m.id))
      .map((m) => ({ m, f: claudeFamily(m.id) }))
      .filter((x) => x.f?.family === wanted.family)
      .sort((a, b) => b.f!.version - a.f!.version)[0]
    if (newest) return { model: newest.m, substitutedFor: name }
  }
  if (wanted) {
    const served = registry
      .list()
      .filter((m) => claudeFamily(m.id) && keyAllowsModel(principal, m.id))
      .map((m) => m.id)
    throw new ApiError(
      404,
      `The model '${name}' is not served by this gateway. Served Claude models: ${served.join(', ') || 'none'}.`,
      'not_found_error',
      'model_not_found',
      'model',
    )
  }
  throw modelNotFound(name)
}
