// The JSON Schema of cluster.yaml, generated from the zod schema that validates it (one source of
// truth): editors (yaml-language-server) complete and check the spec with it. Cross-field rules
// (clusterDNS inside serviceCIDR, …) stay with `kubewright validate`.
import { z } from 'zod';
import { specSchema } from './schema.ts';

/** The schema's name in editors and beside the spec (`kubewright init` writes it there). */
export const jsonSchemaFileName = 'kubewright.schema.json';

export function clusterJsonSchema(): Record<string, unknown> {
  // draft-07: the dialect yaml-language-server and most editors understand fully; the input side,
  // so fields with defaults are optional as they are in cluster.yaml
  const schema = z.toJSONSchema(specSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'kubewright cluster spec (cluster.yaml)' };
}
