// An independent judge for Kubernetes objects: validates an object against the upstream OpenAPI
// schema of a Kubernetes release (vendored and trimmed here, provenance in README.md), strictly
// — an unknown or misplaced field is an error, as with `kubectl apply --validate=strict`.
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { KEPT_KINDS, type TrimmedOpenApi } from './trim-openapi.ts';

/** The releases whose schemas are vendored; an object for minor M is judged by the newest one ≤ M. */
export const SCHEMA_MINORS = [8, 10, 13, 23, 35] as const;

const INT_OR_STRING = { anyOf: [{ type: 'string' }, { type: 'integer' }] };
// resource.Quantity marshals as a string; YAML's `cpu: 1` (a number) is accepted by the API server too
const QUANTITY = { anyOf: [{ type: 'string' }, { type: 'number' }] };

type Json = Record<string, unknown>;

/** OpenAPI → JSON Schema for ajv: objects closed (additionalProperties false), int-or-string and quantities as anyOf. */
function strict(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strict);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Json;
  if (o['x-kubernetes-int-or-string'] === true || o['format'] === 'int-or-string') return INT_OR_STRING;
  const out: Json = {};
  for (const [k, x] of Object.entries(o)) {
    // formats (int32, date-time, …) narrow values the YAML already types; the judge is about fields and types
    if (k === 'x-kubernetes-preserve-unknown-fields' || k === 'x-kubernetes-int-or-string' || k === 'nullable' || k === 'format') continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(x as Json).map(([p, s]) => [p, strict(s)])) : strict(x);
  }
  if (out['properties'] !== undefined && out['additionalProperties'] === undefined && o['x-kubernetes-preserve-unknown-fields'] !== true) out['additionalProperties'] = false;
  return out;
}

interface LoadedSchema {
  doc: TrimmedOpenApi;
  validators: Map<string, Ajv.ValidateFunction>;
  ajv: Ajv.Ajv;
}

const loaded = new Map<number, LoadedSchema>();

function schemaFor(minor: number): { minor: number; schema: LoadedSchema } {
  const pick = [...SCHEMA_MINORS].reverse().find((m) => m <= minor);
  if (pick === undefined) throw new Error(`no vendored Kubernetes schema at or before 1.${minor}`);
  let s = loaded.get(pick);
  if (!s) {
    const doc = JSON.parse(readFileSync(new URL(`./openapi-1.${pick}.json`, import.meta.url), 'utf8')) as TrimmedOpenApi;
    const definitions = Object.fromEntries(Object.entries(doc.definitions).map(([n, d]) => [n, strict(d)]));
    definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'] = INT_OR_STRING;
    definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = QUANTITY;
    const ajv = new Ajv({ allErrors: true, unknownFormats: 'ignore', schemaId: 'auto', logger: false });
    ajv.addSchema({ $id: 'k8s', definitions });
    s = { doc, validators: new Map(), ajv };
    loaded.set(pick, s);
  }
  return { minor: pick, schema: s };
}

function describe(e: Ajv.ErrorObject): string {
  const at = e.dataPath || '(root)';
  if (e.keyword === 'additionalProperties') return `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'required') return `${at}: missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
  return `${at}: ${e.message ?? e.keyword}`;
}

/** Whether a schema for `apiVersion` `kind` is vendored for the release judging 1.<minor>. */
export function hasKubernetesSchema(apiVersion: string, kind: string, minor: number): boolean {
  return `${apiVersion}/${kind}` in schemaFor(minor).schema.doc.kinds;
}

/**
 * False when the release judging 1.<minor> does not serve `apiVersion` `kind` although other
 * releases do (e.g. apps/v1 Deployments on 1.8, extensions/v1beta1 ones on 1.35); true otherwise,
 * including for kinds outside KEPT_KINDS, which this module cannot tell about.
 */
export function servedByRelease(apiVersion: string, kind: string, minor: number): boolean {
  const key = `${apiVersion}/${kind}`;
  return !KEPT_KINDS.includes(key) || key in schemaFor(minor).schema.doc.kinds;
}

/**
 * The problems of `obj` as Kubernetes 1.<minor> would judge it (empty: valid). The kind must be
 * one the release serves, and its schema must be vendored (KEPT_KINDS in trim-openapi.ts).
 */
export function validateKubernetesObject(obj: unknown, minor: number): string[] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return ['(root): not an object'];
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['(root): apiVersion and kind must be strings'];
  const { minor: judged, schema } = schemaFor(minor);
  const key = `${apiVersion}/${kind}`;
  if (!schema.doc.served.includes(key)) return [`${apiVersion} ${kind} is not served by Kubernetes 1.${judged} (judging 1.${minor})`];
  const definition = schema.doc.kinds[key];
  if (!definition) return [`${apiVersion} ${kind}: no vendored schema — add it to KEPT_KINDS in test/contracts/kubernetes/trim-openapi.ts and re-trim`];
  let validate = schema.validators.get(definition);
  if (!validate) {
    const found = schema.ajv.getSchema(`k8s#/definitions/${definition}`);
    if (!found) throw new Error(`schema ${definition} missing from openapi-1.${judged}.json`);
    validate = found;
    schema.validators.set(definition, validate);
  }
  return validate(obj) ? [] : (validate.errors ?? []).map(describe);
}
