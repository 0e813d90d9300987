package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
)

// removeWebhooksTimeout bounds the whole removal.
const removeWebhooksTimeout = 30 * time.Second

// newRemoveWebhooksCommand is `metrics-proxy remove-webhooks`: it deletes the mutating and the
// validating webhook configuration of an installation, the first step of a safe uninstall (the
// Helm chart runs it as a pre-delete hook). A configuration already gone is not an error.
func newRemoveWebhooksCommand() *cobra.Command {
	var kubeconfig, name string
	cmd := &cobra.Command{
		Use:   "remove-webhooks",
		Short: "Delete the webhook configurations of an installation (the first step of an uninstall)",
		Long: `remove-webhooks deletes the MutatingWebhookConfiguration and the ValidatingWebhookConfiguration
named --webhook-configuration. Run it before removing the webhook's Deployment and Service: a
webhook configuration left without its server blocks every write it selects (failurePolicy Fail).
The Helm chart runs it as a pre-delete hook; a configuration already gone is not an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
				return fmt.Errorf("--webhook-configuration %q: %v", name, msgs)
			}
			cfg, err := restConfig(kubeconfig)
			if err != nil {
				return err
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return fmt.Errorf("connect to the cluster: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), removeWebhooksTimeout)
			defer cancel()
			reg := cs.AdmissionregistrationV1()
			for _, c := range []struct {
				kind   string
				delete func(context.Context, string, metav1.DeleteOptions) error
			}{
				{"MutatingWebhookConfiguration", reg.MutatingWebhookConfigurations().Delete},
				{"ValidatingWebhookConfiguration", reg.ValidatingWebhookConfigurations().Delete},
			} {
				switch err := c.delete(ctx, name, metav1.DeleteOptions{}); {
				case apierrors.IsNotFound(err):
					cmd.Printf("%s %s: not found\n", c.kind, name)
				case err != nil:
					return fmt.Errorf("delete %s %s: %w", c.kind, name, err)
				default:
					cmd.Printf("%s %s deleted\n", c.kind, name)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file; default: in-cluster, then $KUBECONFIG, then ~/.kube/config")
	cmd.Flags().StringVar(&name, "webhook-configuration", "metrics-proxy", "name of the mutating and the validating webhook configuration")
	return cmd
}
