// How stale a stand-in kubelet's heartbeat may get before the Kubernetes API double calls its node
// NotReady (KubeApiDoubleOptions.staleAfterMs), for every test whose kubelets beat every second.
// 8 s (7 missed beats) holds on a 2-core machine under a load average of 20, where one `sh` +
// `curl` beat can wait seconds for a CPU; a test that waits for NotReady waits this long plus a margin.
export const heartbeatStaleAfterMs = 8000;
