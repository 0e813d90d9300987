package seed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// scrape creates the scraper's and the intruder's service accounts, takes a token of each from
// the TokenRequest API (kubectl create token) and sends the scrape plan through the proxy.
func (r *run) scrape(ctx context.Context) error {
	for _, sa := range []string{Scraper, Intruder} {
		if _, err := r.kubectl(ctx, "", "create", "serviceaccount", sa, "-n", Namespace); err != nil {
			return err
		}
	}
	r.w.say("(%s is bound to metrics-reader by render's ClusterRoleBinding; %s is bound to nothing)", Scraper, Intruder)
	for _, sa := range []string{Scraper, Intruder} {
		r.w.command("%s_TOKEN=$(kubectl create token %s -n %s --duration=10m)", strings.ToUpper(strings.ReplaceAll(sa, "-", "_")), sa, Namespace)
		out, _, err := r.cp.Kubectl(ctx, "", "create", "token", sa, "-n", Namespace, "--duration=10m")
		if err != nil {
			return err
		}
		r.token[sa] = strings.TrimSpace(out)
	}
	r.w.say("each GET carries \"Authorization: Bearer <token of the service account named>\":")
	var failed []string
	for _, s := range scrapePlan(Scraper, Intruder) {
		s.do(ctx, r.token[s.As])
		r.report.Scrapes = append(r.report.Scrapes, s)
		r.w.say("%s", s)
		if !s.OK() {
			failed = append(failed, s.URL+" as "+s.As)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d scrapes did not return what the seed promises: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// tamper edits the live ConfigMap so that HAProxy would allow every path, and expects the API
// server to deny the edit (the validating webhook) and the stored config to stay as it was.
func (r *run) tamper(ctx context.Context) error {
	cms := r.cs.CoreV1().ConfigMaps(Namespace)
	before, err := cms.Get(ctx, names.ControlPlaneDaemonSet, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get ConfigMap: %w", err)
	}
	edited, line, err := allowEverything(before)
	if err != nil {
		return err
	}
	r.w.say("%s line %d, a careless edit: `http-request allow` before `http-request deny if !{ path /metrics }`", names.ConfigKey, line)
	r.w.command("kubectl replace -f -   # the live ConfigMap with that line")
	_, stderr, err := r.cp.Kubectl(ctx, edited, "replace", "-f", "-")
	r.w.block(stderr)
	if err == nil {
		return errors.New("the API server accepted a config that allows every path")
	}
	if !strings.Contains(stderr, "denied the request") {
		return fmt.Errorf("the edit failed, but not by an admission denial: %w", err)
	}
	r.report.Denial = strings.TrimSpace(stderr)
	after, err := cms.Get(ctx, names.ControlPlaneDaemonSet, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get ConfigMap: %w", err)
	}
	if after.Data[names.ConfigKey] != before.Data[names.ConfigKey] {
		return errors.New("the stored haproxy.cfg changed although the edit was denied")
	}
	r.w.say("denied by the validating webhook; the stored %s is unchanged", names.ConfigKey)
	return nil
}
