// Where lab machines sit on the lab bridge, so the spec (a control plane's derived endpoint) and
// the lab provider (which boots them) agree: the host is .1, machines are .11, .12, ... in the
// order plannedHosts lists them (workers, then control-plane hosts, then etcd hosts).

export const labMachineAddressOffset = 11;
