// An independent judge for main.tf.json: every resource type, attribute, nested block and
// reference checked against the providers' schemas (vendored from the published CDKTF bindings,
// see README.md here), since `terraform validate` cannot download the providers on this machine.
// Generic over resource types: whatever `resource` holds is looked up in the schema.
import { readFileSync } from 'node:fs';
import type { ProviderSchema, TerraformAttributeSchema, TerraformBlockSchema } from './terraform-schema.ts';

export function loadProviderSchemas(): Record<string, ProviderSchema> {
  const read = (name: string): ProviderSchema => JSON.parse(readFileSync(new URL(`./${name}.schema.json`, import.meta.url), 'utf8')) as ProviderSchema;
  // keyed by the provider's local name, which prefixes its resource types
  return { digitalocean: read('digitalocean'), tls: read('tls') };
}

const ROOT_KEYS = new Set(['//', 'terraform', 'provider', 'resource', 'data', 'output', 'variable', 'locals', 'module']);
// Terraform's meta-arguments, valid in every resource block
const META_ARGUMENTS = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'connection', 'provisioner']);
const OUTPUT_KEYS = new Set(['value', 'description', 'sensitive', 'depends_on', 'precondition', 'ephemeral']);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isTemplate = (v: unknown): boolean => typeof v === 'string' && v.includes('${');

function typeProblem(path: string, attr: TerraformAttributeSchema, value: unknown): string | undefined {
  // an interpolation's type is only known at plan time
  if (isTemplate(value)) return undefined;
  const t = attr.type;
  const ok =
    t === 'any' ? true
    : t === 'string' ? typeof value === 'string'
    : t === 'number' ? typeof value === 'number'
    : t === 'bool' ? typeof value === 'boolean'
    : /^(list|set)\(/.test(t) ? Array.isArray(value) && value.every((e) => isTemplate(e) || elementOk(t, e))
    : /^map\(/.test(t) ? isObject(value)
    : true;
  return ok ? undefined : `${path}: must be ${t} (got ${JSON.stringify(value)})`;
}

function elementOk(t: string, e: unknown): boolean {
  if (t.endsWith('(string)')) return typeof e === 'string';
  if (t.endsWith('(number)')) return typeof e === 'number';
  return true;
}

function checkBody(path: string, body: Record<string, unknown>, schema: TerraformBlockSchema, meta: Set<string>, problems: string[]): void {
  for (const [key, value] of Object.entries(body)) {
    if (key === '//' || meta.has(key)) continue;
    const attr = schema.attributes[key];
    const block = schema.blocks[key];
    if (attr) {
      if (!attr.optional && !attr.required) problems.push(`${path}.${key}: is computed by the provider and cannot be set`);
      else {
        const p = typeProblem(`${path}.${key}`, attr, value);
        if (p) problems.push(p);
      }
    } else if (block) {
      const items = Array.isArray(value) ? value : [value];
      if (block.nesting === 'single' && items.length > 1) problems.push(`${path}.${key}: at most one ${key} block`);
      items.forEach((item, i) => {
        if (!isObject(item)) problems.push(`${path}.${key}[${i}]: a block must be an object`);
        else checkBody(`${path}.${key}[${i}]`, item, block, new Set(), problems);
      });
    } else {
      const known = [...Object.keys(schema.attributes).filter((a) => schema.attributes[a]?.optional || schema.attributes[a]?.required), ...Object.keys(schema.blocks)].sort();
      problems.push(`${path}.${key}: not an argument of this block (known: ${known.join(', ')})`);
    }
  }
  for (const [name, attr] of Object.entries(schema.attributes)) {
    if (attr.required && !(name in body)) problems.push(`${path}.${name}: required`);
  }
  for (const [name, block] of Object.entries(schema.blocks)) {
    if (block.required && !(name in body)) problems.push(`${path}.${name}: required block`);
  }
}

function providerOf(type: string, schemas: Record<string, ProviderSchema>): ProviderSchema | undefined {
  return schemas[type.split('_')[0] ?? ''];
}

/** References `<type>.<name>[...]?.<attribute>` inside `${...}` (resource types only, not var./local./count.). */
function checkReferences(path: string, text: string, declared: Map<string, TerraformBlockSchema>, problems: string[]): void {
  for (const m of text.matchAll(/\$\{([^}]*)\}/g)) {
    for (const r of (m[1] ?? '').matchAll(/\b([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)(?:\[[^\]]*\])?(?:\.([a-z_][a-z0-9_]*))?/g)) {
      const [ref, type = '', name = '', attribute] = r;
      const schema = declared.get(`${type}.${name}`);
      if (!schema) {
        problems.push(`${path}: ${ref} refers to a resource that is not declared`);
        continue;
      }
      if (attribute !== undefined && !(attribute in schema.attributes) && !(attribute in schema.blocks)) {
        problems.push(`${path}: ${ref}: ${type} has no attribute ${attribute}`);
      }
    }
  }
}

function walkStrings(value: unknown, path: string, visit: (path: string, s: string) => void): void {
  if (typeof value === 'string') visit(path, value);
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, `${path}[${i}]`, visit));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) walkStrings(v, `${path}.${k}`, visit);
}

/** Every problem found in a Terraform JSON document; empty when it fits the schemas. */
export function checkTerraformJson(doc: unknown, schemas: Record<string, ProviderSchema> = loadProviderSchemas()): string[] {
  const problems: string[] = [];
  if (!isObject(doc)) return ['main.tf.json: the document must be an object'];
  for (const key of Object.keys(doc)) if (!ROOT_KEYS.has(key)) problems.push(`${key}: not a Terraform top-level block`);

  const required = isObject(doc['terraform']) && isObject(doc['terraform']['required_providers']) ? doc['terraform']['required_providers'] : {};
  for (const [local, req] of Object.entries(required)) {
    const schema = schemas[local];
    const source = isObject(req) ? String(req['source'] ?? '') : '';
    if (!schema) problems.push(`terraform.required_providers.${local}: no schema for this provider`);
    else if (!schema.provenance.provider.endsWith(`/${source}`)) problems.push(`terraform.required_providers.${local}.source: ${source} is not ${schema.provenance.provider}`);
  }
  for (const [local, config] of Object.entries(isObject(doc['provider']) ? doc['provider'] : {})) {
    const schema = schemas[local];
    if (!schema) problems.push(`provider.${local}: unknown provider`);
    else if (isObject(config)) checkBody(`provider.${local}`, config, schema.provider, new Set(['alias']), problems);
  }

  const declared = new Map<string, TerraformBlockSchema>();
  const resources = isObject(doc['resource']) ? doc['resource'] : {};
  for (const [type, byName] of Object.entries(resources)) {
    const schema = providerOf(type, schemas)?.resources[type];
    if (!schema) {
      problems.push(`resource.${type}: no such resource type in the provider schema`);
      continue;
    }
    if (!isObject(byName)) {
      problems.push(`resource.${type}: must map names to resource bodies`);
      continue;
    }
    for (const [name, body] of Object.entries(byName)) {
      declared.set(`${type}.${name}`, schema);
      if (!isObject(body)) problems.push(`resource.${type}.${name}: must be an object`);
      else checkBody(`resource.${type}.${name}`, body, schema, META_ARGUMENTS, problems);
    }
  }
  for (const [name, output] of Object.entries(isObject(doc['output']) ? doc['output'] : {})) {
    if (!isObject(output)) problems.push(`output.${name}: must be an object`);
    else for (const k of Object.keys(output)) if (!OUTPUT_KEYS.has(k)) problems.push(`output.${name}.${k}: not an output argument`);
  }
  walkStrings({ resource: doc['resource'], output: doc['output'] }, '', (path, s) => checkReferences(path.slice(1), s, declared, problems));
  return problems;
}
