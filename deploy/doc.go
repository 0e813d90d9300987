// Package deploy holds the kustomize manifests that install metrics-proxy: the base (files
// mode), the overlays cert-manager and self-signed, and the scraper RBAC component. It has no
// Go API: its tests build every overlay with kustomize, check the properties an operator relies
// on, apply them to a real API server with server-side dry-run, and run cert-manager's CA
// injector against the cert-manager overlay's webhook configurations.
package deploy
