// A command that ends with a meaningful exit code but no error to print (e.g. `plan
// --detailed-exitcode` exits 2 when there are changes) throws this; main returns its code.
export class ExitStatus {
  constructor(readonly code: number) {}
}
