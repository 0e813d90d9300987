package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// clusterFlags are the flags of the commands that read a live cluster (audit, explain).
type clusterFlags struct {
	kubeconfig, policyFile, image string
}

// add registers the flags on cmd.
func (f *clusterFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file; default: $KUBECONFIG, then ~/.kube/config, then in-cluster")
	cmd.Flags().StringVar(&f.policyFile, "policy", "", "policy file to judge against; default: the built-in policy")
	addDefaultImageFlag(cmd, &f.image)
}

// connect loads the policy, then the cluster connection: a read-only client as kubectl's user.
func (f *clusterFlags) connect(version string) (client.Reader, *policy.Policy, inject.Config, error) {
	p, err := loadPolicy(f.policyFile)
	if err != nil {
		return nil, nil, inject.Config{}, err
	}
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return nil, nil, inject.Config{}, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return nil, nil, inject.Config{}, fmt.Errorf("connect to the cluster: %w", err)
	}
	return c, p, inject.Config{Version: version, DefaultImage: f.image}, nil
}
