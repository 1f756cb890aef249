// `--ignore-preflight-errors` for the commands that run the preflight checks (plan, apply, up,
// doctor): kubeadm's name and shape, a comma list of check names or `all`; a blocking finding of
// those checks is then shown as a warning that says it was ignored.
import { Option } from 'commander';
import { IGNORE_PREFLIGHT_ERRORS_FLAG, preflightCheckIds } from '../phases/preflight.ts';

export function ignorePreflightErrorsOption(): Option {
  return new Option(
    `${IGNORE_PREFLIGHT_ERRORS_FLAG} <checks>`,
    `accept these blocking preflight checks knowingly: a comma list of ${preflightCheckIds.join(', ')}, or all (shown as warnings instead)`,
  );
}
