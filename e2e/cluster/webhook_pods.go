//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/image"
)

// WebhookNamespace, WebhookDeployment and WebhookConfiguration are deploy/base's names.
const (
	WebhookNamespace     = "metrics-proxy-system"
	WebhookDeployment    = "metrics-proxy"
	WebhookConfiguration = "metrics-proxy"
	// WebhookImage is the image the cluster installs: deploy/'s metrics-proxy re-tagged as a user
	// does (kustomize edit set image metrics-proxy=WebhookImage), under another name and tag, so
	// that the webhook must inject and admit its own image in the proxy-cert init container, and
	// the kubelet runs the loaded image and pulls nothing (a :latest image is pulled Always).
	WebhookImage = webhookName + ":" + webhookTag
	webhookName  = "localhost/metrics-proxy"
	webhookTag   = "e2e"
)

// InstallWebhook installs metrics-proxy as the README says: the image of `make build` (built
// here from this checkout) loaded on every node, then `kubectl apply -k` on a kustomization of
// the user's that takes overlay (a directory under deploy/overlays) and sets the image's tag
// (images: [{name: metrics-proxy, newName: localhost/metrics-proxy, newTag: e2e}]): the webhook
// container and the proxy-cert init container it injects both run it. It waits until both replicas are Ready through their
// probes and the servers have put their CA in the webhook configurations.
func (c *Cluster) InstallWebhook(ctx context.Context, overlay string) error {
	archive, err := c.webhookImage(ctx)
	if err != nil {
		return err
	}
	for _, n := range c.Nodes {
		if _, err := n.Ctr(ctx, "images", "import", archive); err != nil {
			return fmt.Errorf("node %s: import the metrics-proxy image: %w", n.Name, err)
		}
	}
	dir, err := c.userOverlay(overlay)
	if err != nil {
		return err
	}
	if _, _, err := c.Kubectl(ctx, "", "apply", "-k", dir); err != nil {
		return err
	}
	return poll(ctx, 3*time.Minute, nil, func(ctx context.Context) error {
		d, err := c.Client.AppsV1().Deployments(WebhookNamespace).Get(ctx, WebhookDeployment, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !available(d) {
			return fmt.Errorf("deployment %s: %d of %d replicas ready", WebhookDeployment, d.Status.ReadyReplicas, *d.Spec.Replicas)
		}
		m, err := c.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, WebhookConfiguration, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, w := range m.Webhooks {
			if len(w.ClientConfig.CABundle) == 0 {
				return fmt.Errorf("webhook %s: no caBundle yet", w.Name)
			}
		}
		return nil
	})
}

func available(d *appsv1.Deployment) bool {
	return d.Spec.Replicas != nil && d.Status.ObservedGeneration >= d.Generation &&
		d.Status.ReadyReplicas == *d.Spec.Replicas && d.Status.UpdatedReplicas == *d.Spec.Replicas
}

// webhookImage builds bin/metrics-proxy's equivalent (`make build`) into the cluster's directory
// and packs it as `make image` does.
func (c *Cluster) webhookImage(ctx context.Context) (string, error) {
	dir := filepath.Join(c.dir, "images")
	binary := filepath.Join(dir, "metrics-proxy")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binary, "./cmd/metrics-proxy")
	cmd.Dir = harness.RepoRoot()
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build metrics-proxy: %w: %s", err, out)
	}
	return writeImage(dir, "metrics-proxy", image.MetricsProxy(binary, WebhookImage))
}

// userOverlay writes the user's kustomization on top of deploy/overlays/overlay that re-tags the
// image, and returns its directory.
func (c *Cluster) userOverlay(overlay string) (string, error) {
	dir := filepath.Join(c.dir, "install")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	base, err := filepath.Rel(dir, filepath.Join(harness.RepoRoot(), "deploy", "overlays", overlay))
	if err != nil {
		return "", err
	}
	k := fmt.Sprintf("resources: [%s]\nimages: [{name: metrics-proxy, newName: %s, newTag: %s}]\n", base, webhookName, webhookTag)
	return dir, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644)
}
