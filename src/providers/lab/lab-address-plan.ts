// Addresses on the lab bridge: the host is .1, machines are .11, .12, ... (no gateway, no NAT).
import { cidrAddress, cidrSize, parseCidr } from '../../spec/ipv4.ts';
import { labMachineAddressOffset } from '../../spec/lab-addresses.ts';
import { LabError } from './lab-errors.ts';

export interface LabAddressPlan {
  prefix: number;
  /** the host side of the bridge, e.g. 10.213.0.1 — where machines reach services on this machine */
  bridgeAddress: string;
  machines: string[];
}

const firstMachineOffset = labMachineAddressOffset;

export function labAddressPlan(subnet: string, count: number): LabAddressPlan {
  const cidr = parseCidr(subnet);
  if (!cidr) throw new LabError(`provider.lab.subnet: not an IPv4 CIDR block (got ${subnet})`, { hint: 'e.g. 10.213.0.0/24' });
  // leave the broadcast address free
  if (firstMachineOffset + count > cidrSize(cidr) - 1) {
    throw new LabError(`provider.lab.subnet: ${subnet} has no room for ${count} machines from .${firstMachineOffset}`, { hint: 'use a larger subnet such as a /24' });
  }
  return {
    prefix: cidr.prefix,
    bridgeAddress: cidrAddress(cidr, 1),
    machines: Array.from({ length: count }, (_, i) => cidrAddress(cidr, firstMachineOffset + i)),
  };
}
