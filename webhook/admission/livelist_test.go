package admission

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/metrics-proxy/injector/webhook/names"
)

// pagedServer answers DaemonSet lists of any namespace in two protobuf pages (a proxy mounting
// "one", then a proxy mounting "two"), after delay, and counts requests and the most in flight.
type pagedServer struct {
	delay     time.Duration
	status    atomic.Int64
	requests  atomic.Int64
	inFlight  atomic.Int64
	maxFlight atomic.Int64
	pages     [2]string
	revisions string
}

func newPagedServer(t *testing.T, delay time.Duration) (*pagedServer, *LiveDaemonSets) {
	proxy := map[string]string{names.InjectLabel: "true"}
	s := &pagedServer{delay: delay, pages: [2]string{
		listPage(t, "p2", daemonSet("a", proxy, nil, cmVolume("one"))),
		listPage(t, "", daemonSet("b", proxy, nil, cmVolume("two")), daemonSet("c", nil, nil, cmVolume("three"))),
	}, revisions: revisionPage(t, revision("a", "old"), revision("c", "older"), revision("", "orphan"))}
	srv := httptest.NewServer(s) // no client-side rate limit, as serve configures it
	t.Cleanup(srv.Close)
	c, err := rest.RESTClientFor(&rest.Config{Host: srv.URL, APIPath: "/apis", QPS: -1, ContentConfig: rest.ContentConfig{
		GroupVersion: &appsv1.SchemeGroupVersion, NegotiatedSerializer: scheme.Codecs.WithoutConversion()}})
	require.NoError(t, err)
	return s, NewLiveDaemonSets(c, 0, 0)
}

func (s *pagedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.maxFlight.Load(); n > m && !s.maxFlight.CompareAndSwap(m, n); m = s.maxFlight.Load() {
	}
	time.Sleep(s.delay)
	if st := s.status.Load(); st != 0 {
		http.Error(w, "no", int(st))
		return
	}
	if strings.HasSuffix(r.URL.Path, "/controllerrevisions") && r.URL.Query().Get("limit") == "50" {
		w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
		_, _ = w.Write([]byte(s.revisions))
		return
	}
	if r.URL.Query().Get("limit") != "10" || r.Header.Get("Accept") != "application/vnd.kubernetes.protobuf" {
		http.Error(w, "unexpected request "+r.URL.String(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
	page := s.pages[0]
	if r.URL.Query().Get("continue") == "p2" {
		page = s.pages[1]
	}
	_, _ = w.Write([]byte(page))
}

// revision is a ControllerRevision of the DaemonSet owner ("": none) whose template mounts cm,
// as the DaemonSet controller stores it.
func revision(owner, cm string) appsv1.ControllerRevision {
	r := appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: owner + "-" + cm},
		Data: runtime.RawExtension{Raw: []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x"}],` +
			`"volumes":[{"name":"v","configMap":{"name":"` + cm + `"}}]},"$patch":"replace"}}}`)}}
	if owner != "" {
		r.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: owner, UID: "u", Controller: ptr.To(true)}}
	}
	return r
}

// revisionPage is a ControllerRevisionList page in the API server's protobuf encoding.
func revisionPage(t testing.TB, items ...appsv1.ControllerRevision) string {
	t.Helper()
	l := &appsv1.ControllerRevisionList{ListMeta: metav1.ListMeta{ResourceVersion: "42"}, Items: items}
	enc := scheme.Codecs.EncoderForVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), appsv1.SchemeGroupVersion)
	var buf bytes.Buffer
	require.NoError(t, enc.Encode(l, &buf))
	return buf.String()
}

func TestLiveDaemonSetsFollowsPages(t *testing.T) {
	s, live := newPagedServer(t, 0)
	for name, want := range map[string]bool{"one": true, "two": true, "three": false, "none": false,
		"old": true, "older": false, "orphan": false} {
		got, err := live.MountedByProxy(context.Background(), "ns", name)
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
	assert.EqualValues(t, 21, s.requests.Load(), "two pages of DaemonSets and one of revisions a look-up")
}

// TestLiveDaemonSetsBoundsAndShares: 40 reviews at once, of one namespace and of 8, run at most
// DefaultLiveLists lists at once, and those of one namespace share the lists that start after
// they arrived.
func TestLiveDaemonSetsBoundsAndShares(t *testing.T) {
	for _, namespaces := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d namespaces", namespaces), func(t *testing.T) {
			s, live := newPagedServer(t, 20*time.Millisecond)
			var wg sync.WaitGroup
			errs := make([]error, 40)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got, err := live.MountedByProxy(context.Background(), fmt.Sprintf("ns%d", i%namespaces), "two")
					if err == nil && !got {
						err = fmt.Errorf("review %d: no proxy found", i)
					}
					errs[i] = err
				}()
			}
			start := time.Now()
			wg.Wait()
			t.Logf("%d requests (3 a list), at most %d at once, %s", s.requests.Load(), s.maxFlight.Load(), time.Since(start))
			for _, err := range errs {
				require.NoError(t, err)
			}
			assert.LessOrEqual(t, s.maxFlight.Load(), int64(DefaultLiveLists))
			assert.LessOrEqual(t, s.requests.Load(), int64(3*3*namespaces), "the waiting reviews of a namespace share a list")
		})
	}
}

func TestLiveDaemonSetsFailsClosed(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		_, live := newPagedServer(t, time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := live.MountedByProxy(ctx, "ns", "two")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no answer from the API server")
	})
	t.Run("waiting for a slot counts", func(t *testing.T) {
		_, live := newPagedServer(t, 400*time.Millisecond)
		for i := 0; i < DefaultLiveLists; i++ { // hold every slot
			go func() { _, _ = live.MountedByProxy(context.Background(), fmt.Sprintf("busy%d", i), "x") }()
		}
		time.Sleep(100 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := live.MountedByProxy(ctx, "ns", "two")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "wait for one of 2 live lists")
	})
	t.Run("refused", func(t *testing.T) {
		s, live := newPagedServer(t, 0)
		s.status.Store(http.StatusForbidden)
		_, err := live.MountedByProxy(context.Background(), "ns", "two")
		require.Error(t, err)
	})
}
