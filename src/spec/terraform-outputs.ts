// The output names of kubewright's main.tf.json: written by render/terraform.ts and read back by
// the terraform provider from a saved `terraform output -json`, so both sides share one contract.
export const terraformOutputNames = {
  names: 'worker_names',
  publicIPv4: 'worker_ipv4_addresses',
  privateIPv4: 'worker_ipv4_private_addresses',
  hostKeys: 'worker_ssh_host_keys',
} as const;
