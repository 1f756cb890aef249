// The shape of the vendored provider schemas (digitalocean.schema.json, tls.schema.json): a
// subset of `terraform providers schema -json`, as extract-cdktf-schema.ts derives it.

export interface TerraformAttributeSchema {
  /** string, number, bool, list(string), set(object), map(string), any, … */
  type: string;
  required: boolean;
  optional: boolean;
  computed: boolean;
  /** for computed lists of objects: the element's attributes */
  element?: TerraformBlockSchema;
}

export interface TerraformBlockSchema {
  attributes: Record<string, TerraformAttributeSchema>;
  blocks: Record<string, TerraformNestedBlockSchema>;
}

export interface TerraformNestedBlockSchema extends TerraformBlockSchema {
  nesting: 'single' | 'list' | 'set' | 'map';
  required: boolean;
}

export interface ProviderSchema {
  provenance: { package: string; provider: string; providerVersion: string; how: string };
  /** the provider block's configuration */
  provider: TerraformBlockSchema;
  resources: Record<string, TerraformBlockSchema>;
}
