// systemd names as the renderers may write them (`kubelet` or `kubelet.service`) made explicit.
export function unitName(name: string): string {
  return /\.(service|socket|timer|mount|target|path)$/.test(name) ? name : `${name}.service`;
}

/** True for files systemd reads as unit definitions (a change needs `systemctl daemon-reload`). */
export function isUnitFile(path: string): boolean {
  // unit files directly in a unit directory, or drop-ins (`kubelet.service.d/10-x.conf`)
  return /^\/(etc|lib|usr\/lib|run)\/systemd\/system\/([^/]+\.(service|socket|timer|mount|target|path)|[^/]+\.d\/[^/]+\.conf)$/.test(path);
}
