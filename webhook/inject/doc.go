// Package inject is the pure injection core of metrics-proxy: it turns a DaemonSet stub into the
// HAProxy metrics proxy (the seed procedure's DaemonSet, hardened) and fills a stub ConfigMap with a generated
// haproxy.cfg. It has no HTTP, no Kubernetes client and no global state: the admission webhook and
// the offline CLI both call DaemonSetJSON and ConfigMapJSON, so they produce the same objects.
package inject
