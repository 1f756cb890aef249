// `--output text|json` for every command whose output people script against; commander
// rejects any other value with exit 2 ("Allowed choices are text, json").
import { Option } from 'commander';

export type OutputFormat = 'text' | 'json';

export function outputOption(description = 'text for people, json for scripts'): Option {
  return new Option('-o, --output <format>', description).choices(['text', 'json']).default('text');
}
