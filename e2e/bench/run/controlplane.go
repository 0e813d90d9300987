package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/metrics-proxy/injector/e2e/harness"
)

// controlPlane is the local kube-apiserver and etcd of the end-to-end part, started by envtest
// from bin/, with a serving certificate for the webhook servers on 127.0.0.1 (no webhook
// configuration installed: the scenarios install and remove their own).
type controlPlane struct {
	env *envtest.Environment
	// cfg and client reach the API server as cluster admin.
	cfg    *rest.Config
	client client.Client
	// kubeconfig is a kubeconfig file for the webhook servers.
	kubeconfig string
	// certDir holds tls.crt and tls.key for 127.0.0.1; caFile and caData are the CA that signed it.
	certDir, caFile string
	caData          []byte
	// version is the API server's version, e.g. v1.37.2.
	version string
}

// startControlPlane starts etcd and kube-apiserver from bin/ (or $KUBEBUILDER_ASSETS). The API
// server runs with its default flags: MutatingAdmissionPolicy is GA in v1.37, served as
// admissionregistration.k8s.io/v1 and enabled by default, so it needs no --runtime-config and no
// feature gate (checkMutatingAdmissionPolicy confirms it).
func startControlPlane(ctx context.Context) (_ *controlPlane, err error) {
	assets, err := harness.Assets()
	if err != nil {
		return nil, err
	}
	cp := &controlPlane{env: &envtest.Environment{
		BinaryAssetsDirectory: assets,
		WebhookInstallOptions: envtest.WebhookInstallOptions{LocalServingHost: "127.0.0.1"},
	}}
	if cp.cfg, err = cp.env.Start(); err != nil {
		_ = cp.env.Stop() // envtest may have started etcd before failing
		return nil, fmt.Errorf("start kube-apiserver and etcd: %w", err)
	}
	defer func() {
		if err != nil {
			cp.stop()
		}
	}()
	cp.cfg.QPS, cp.cfg.Burst = 10000, 20000 // never throttle the sequential creates on the client side
	cp.cfg.ContentType = "application/json" // as kubectl and GitOps tools send objects (not protobuf)
	if cp.client, err = client.New(cp.cfg, client.Options{}); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	cp.certDir = cp.env.WebhookInstallOptions.LocalServingCertDir
	cp.caData = cp.env.WebhookInstallOptions.LocalServingCAData
	cp.caFile = filepath.Join(cp.certDir, "ca.crt")
	if err := os.WriteFile(cp.caFile, cp.caData, 0o600); err != nil {
		return nil, fmt.Errorf("write CA: %w", err)
	}
	cp.kubeconfig = filepath.Join(cp.certDir, "kubeconfig")
	if err := os.WriteFile(cp.kubeconfig, cp.env.KubeConfig, 0o600); err != nil {
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cp.cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("server version: %w", err)
	}
	cp.version = v.GitVersion
	if err := checkMutatingAdmissionPolicy(dc); err != nil {
		return nil, err
	}
	return cp, ctx.Err()
}

// checkMutatingAdmissionPolicy makes sure the API server serves MutatingAdmissionPolicy in v1.
func checkMutatingAdmissionPolicy(dc discovery.DiscoveryInterface) error {
	const gv = "admissionregistration.k8s.io/v1"
	list, err := dc.ServerResourcesForGroupVersion(gv)
	if err != nil {
		return fmt.Errorf("discover %s: %w", gv, err)
	}
	for _, r := range list.APIResources {
		if r.Name == "mutatingadmissionpolicies" {
			return nil
		}
	}
	return fmt.Errorf("the API server does not serve %s mutatingadmissionpolicies", gv)
}

// stop stops kube-apiserver and etcd and removes their directories and the certificates.
func (cp *controlPlane) stop() {
	_ = cp.env.Stop()
}
