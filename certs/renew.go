package certs

import (
	"fmt"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	corev1 "k8s.io/api/core/v1"
)

// validity is how long new certificates last; each is renewed in its last third.
type validity struct{ ca, cert time.Duration }

// renew brings the CA and the serving certificate in secret up to date at now and reports
// whether it changed anything: a new CA when there is none, when it is in the last third of its
// life or when RotateAnnotation asks for one; a new serving certificate when there is none, when
// the current CA did not sign it, or in the last third of its life. The caBundle is the current CA
// followed by older CAs still valid, so that certificates they signed stay trusted while
// replicas switch to the new one.
func renew(secret *corev1.Secret, iss *rotator.CertRotator, v validity, now time.Time) (bool, error) {
	if secret.Data == nil {
		secret.Data = map[string][]byte{}
	}
	d := secret.Data
	changed := false
	ca, err := parseCA(d[CAKey], d[CAPrivateKey])
	_, forced := secret.Annotations[RotateAnnotation]
	if forced || err != nil || inLastThird(ca.Cert.NotBefore, ca.Cert.NotAfter, now) {
		if ca, err = iss.CreateCACert(now.Add(-time.Hour), now.Add(v.ca)); err != nil {
			return false, fmt.Errorf("create CA: %w", err)
		}
		old := d[BundleKey]
		d[CAKey], d[CAPrivateKey] = ca.CertPEM, ca.KeyPEM
		d[BundleKey] = buildBundle(ca.CertPEM, old, now)
		delete(secret.Annotations, RotateAnnotation)
		changed = true
	}
	if bundle := buildBundle(d[CAKey], d[BundleKey], now); string(bundle) != string(d[BundleKey]) {
		d[BundleKey] = bundle // an old CA expired, or the bundle was lost
		changed = true
	}
	if !servingValid(d, iss, now) {
		cert, key, err := iss.CreateCertPEM(ca, now.Add(-time.Hour), now.Add(v.cert))
		if err != nil {
			return false, fmt.Errorf("create serving certificate: %w", err)
		}
		d[CertFile], d[KeyFile] = cert, key
		changed = true
	}
	return changed, nil
}

// servingValid reports whether the serving certificate is signed by the current CA for the DNS
// name and outside the last third of its life.
func servingValid(d map[string][]byte, iss *rotator.CertRotator, now time.Time) bool {
	if ok, err := rotator.ValidCert(d[CAKey], d[CertFile], d[KeyFile], iss.DNSName, iss.ExtKeyUsages, now); !ok || err != nil {
		return false
	}
	cert, err := parseCert(d[CertFile])
	return err == nil && !inLastThird(cert.NotBefore, cert.NotAfter, now)
}

// inLastThird reports whether now is in the last third of [from, to].
func inLastThird(from, to, now time.Time) bool {
	return now.After(to.Add(-to.Sub(from) / 3))
}
