// Package deploy holds the manifests that install metrics-proxy: the kustomize base (files
// mode), the overlays cert-manager and self-signed, the scraper RBAC component, and the Helm
// chart helm/metrics-proxy that renders the same objects. It has no Go API: its tests build every
// overlay with kustomize, check the properties an operator relies on, apply them to a real API
// server with server-side dry-run, and run cert-manager's CA injector against the cert-manager
// overlay's webhook configurations. The chart's tests render it with Helm's SDK and compare it
// with the overlays object by object (TestChartMatchesKustomize: a change to base/ or an overlay
// fails it until the chart's templates or values.yaml follow), check its schema and lint, and
// install, upgrade and uninstall it, as `kubectl apply -k` / `delete -k` for the overlays, on a
// real API server.
package deploy
