// Extracts the Terraform resource schemas (attribute names, types, required/optional/computed,
// nested blocks) from a prebuilt CDKTF provider package, which `cdktf get` generated from the
// provider's own `terraform providers schema -json`. Each resource's generated TypeScript is
// embedded in the package as an inline source map; its getters carry the schema as comments
// (`// name - computed: false, optional: false, required: true`) and typed getters.
//
// Usage (re-derives the vendored files next to this script):
//   npm pack @cdktf/provider-digitalocean@13.14.1 && mkdir do && tar xzf cdktf-provider-digitalocean-13.14.1.tgz -C do
//   node --import tsx test/contracts/terraform/extract-cdktf-schema.ts do/package > test/contracts/terraform/digitalocean.schema.json
//   npm pack @cdktf/provider-tls@11.0.1 && mkdir tls && tar xzf cdktf-provider-tls-11.0.1.tgz -C tls
//   node --import tsx test/contracts/terraform/extract-cdktf-schema.ts tls/package > test/contracts/terraform/tls.schema.json
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProviderSchema, TerraformBlockSchema, TerraformAttributeSchema } from './terraform-schema.ts';

function embeddedSource(js: string, file: string): string {
  const m = /sourceMappingURL=data:application\/json;base64,(.*)$/m.exec(js);
  if (!m?.[1]) throw new Error(`${file}: no inline source map`);
  const map = JSON.parse(Buffer.from(m[1], 'base64').toString('utf8')) as { sourcesContent?: string[] };
  const src = map.sourcesContent?.[0];
  if (!src) throw new Error(`${file}: the source map carries no source`);
  return src;
}

/** The body of `export class <name> ...{ ... }` (up to the next top-level `}`). */
function classBody(src: string, name: string): string | undefined {
  const start = src.search(new RegExp(`^export class ${name} extends`, 'm'));
  if (start < 0) return undefined;
  const end = src.indexOf('\n}\n', start);
  return src.slice(start, end < 0 ? undefined : end);
}

const getterTypes: Record<string, string> = {
  getStringAttribute: 'string',
  getNumberAttribute: 'number',
  getBooleanAttribute: 'bool',
  getListAttribute: 'list(string)',
  getNumberListAttribute: 'list(number)',
  getStringMapAttribute: 'map(string)',
  getNumberMapAttribute: 'map(number)',
  getBooleanMapAttribute: 'map(bool)',
  getAnyMapAttribute: 'map(any)',
  interpolationForAttribute: 'any',
};

function blockOf(src: string, className: string, file: string, untypedAsAny = false): TerraformBlockSchema {
  const body = classBody(src, className);
  if (!body) throw new Error(`${file}: class ${className} not found`);
  const block: TerraformBlockSchema = { attributes: {}, blocks: {} };
  const re = /^ {2}\/\/ (\w+) - computed: (true|false), optional: (true|false), required: (true|false)$/gm;
  const marks = [...body.matchAll(re)];
  marks.forEach((m, i) => {
    const [, name = '', computed, optional, required] = m;
    const chunk = body.slice(m.index, marks[i + 1]?.index ?? body.length);
    const flags = { required: required === 'true', optional: optional === 'true', computed: computed === 'true' };
    const nested = new RegExp(`new (\\w+?)(OutputReference|List|Map)\\(this, "${name}"(?:, (true|false))?\\)`).exec(chunk);
    if (nested?.[1]) {
      const element = blockOf(src, `${nested[1]}OutputReference`, file);
      const nesting = nested[2] === 'OutputReference' ? 'single' : nested[2] === 'Map' ? 'map' : nested[3] === 'true' ? 'set' : 'list';
      if (flags.computed && !flags.optional && !flags.required) {
        // a computed list of objects: readable in references, never written
        block.attributes[name] = { type: nesting === 'single' ? 'object' : `${nesting}(object)`, ...flags, element };
      } else {
        block.blocks[name] = { nesting, ...element, required: flags.required };
      }
      return;
    }
    const getter = /this\.(get\w+Attribute|interpolationForAttribute)\(/.exec(chunk)?.[1];
    // provider configuration getters return the raw input, so they carry no type
    const type = getter ? getterTypes[getter] : untypedAsAny ? 'any' : undefined;
    if (!type) throw new Error(`${file}: ${className}.${name}: no known getter`);
    const attr: TerraformAttributeSchema = { type, ...flags };
    block.attributes[name] = attr;
  });
  return block;
}

export function extractProviderSchema(packageDir: string): ProviderSchema {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string; version: string; cdktf?: { provider?: { name?: string; version?: string } } };
  const lib = join(packageDir, 'lib');
  const resources: Record<string, TerraformBlockSchema> = {};
  let providerVersion = '';
  for (const dir of readdirSync(lib).sort()) {
    if (dir.startsWith('data-') || dir === 'provider') continue;
    let js: string;
    try {
      js = readFileSync(join(lib, dir, 'index.js'), 'utf8');
    } catch {
      continue;
    }
    const type = /\.tfResourceType = "(\w+)";/.exec(js)?.[1];
    if (!type) continue;
    const src = embeddedSource(js, `${dir}/index.js`);
    const className = /^export class (\w+) extends cdktf\.TerraformResource/m.exec(src)?.[1];
    if (!className) throw new Error(`${dir}: no TerraformResource class`);
    providerVersion ||= /providerVersion: '([^']+)'/.exec(src)?.[1] ?? '';
    resources[type] = blockOf(src, className, `${dir}/index.ts`);
  }
  const providerSrc = embeddedSource(readFileSync(join(lib, 'provider', 'index.js'), 'utf8'), 'provider/index.js');
  const providerClass = /^export class (\w+) extends cdktf\.TerraformProvider/m.exec(providerSrc)?.[1];
  if (!providerClass) throw new Error('provider/index.ts: no TerraformProvider class');
  const provider = blockOf(providerSrc, providerClass, 'provider/index.ts', true);
  return {
    provenance: {
      package: `${pkg.name}@${pkg.version}`,
      provider: pkg.cdktf?.provider?.name ?? '',
      providerVersion,
      how: 'extracted by test/contracts/terraform/extract-cdktf-schema.ts from the generated bindings (inline source maps)',
    },
    provider,
    resources,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: extract-cdktf-schema.ts <unpacked package dir>\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(extractProviderSchema(dir), null, 1)}\n`);
}
