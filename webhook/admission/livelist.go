package admission

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"

	"k8s.io/client-go/rest"
)

// Defaults of LiveDaemonSets.
const (
	// DefaultLivePageSize is how many DaemonSets one page of a live list holds.
	DefaultLivePageSize = 10
	// DefaultLiveLists is how many live lists may run at once.
	DefaultLiveLists = 2
)

// LiveDaemonSets confirms, from the API server itself, that no proxy DaemonSet of a namespace
// mounts a ConfigMap, when the informer cache found none: the cache trails the API server, and a
// proxy created just before the ConfigMap would escape it. It lists the namespace's DaemonSets in
// pages (a consistent read: the first page is read from etcd, the others from its snapshot) in
// protobuf, and decodes only what the check needs (see narrowDaemonSet), one DaemonSet at a time:
// a tenant's padded annotations are skipped by their length.
//
// At most Lists lists run at once; a review that waits for one counts the wait in LookupTimeout.
// Reviews of one namespace that wait share the list that starts next: it starts after each of
// them arrived, so it sees every DaemonSet created before, and a burst of writes in one namespace
// costs a list or two, not one each. Use NewLiveDaemonSets.
type LiveDaemonSets struct {
	client   rest.Interface
	pageSize int64
	slots    chan struct{}

	mu      sync.Mutex
	pending map[string]*liveList // namespace: the list not started yet that new reviews join
}

// liveList is one list of a namespace, shared by the reviews that joined it before it started.
type liveList struct {
	done    chan struct{}
	mounted map[string]bool // ConfigMaps mounted by a proxy; set before done closes
	err     error
}

// NewLiveDaemonSets returns a LiveDaemonSets that lists through client, a REST client of the
// apps/v1 API group, pageSize DaemonSets a page (DefaultLivePageSize when <= 0), at most lists
// lists at once (DefaultLiveLists when <= 0).
func NewLiveDaemonSets(client rest.Interface, pageSize int64, lists int) *LiveDaemonSets {
	if pageSize <= 0 {
		pageSize = DefaultLivePageSize
	}
	if lists <= 0 {
		lists = DefaultLiveLists
	}
	return &LiveDaemonSets{client: client, pageSize: pageSize, slots: make(chan struct{}, lists),
		pending: map[string]*liveList{}}
}

// MountedByProxy reports whether a proxy DaemonSet of namespace (see mountedByProxy) mounts the
// ConfigMap name, read from the API server within LookupTimeout, the wait for a list included.
func (l *LiveDaemonSets) MountedByProxy(ctx context.Context, namespace, name string) (bool, error) {
	var mounted bool
	err := bounded(ctx, LookupTimeout, "list the DaemonSets of namespace "+namespace+" from the API server", func(ctx context.Context) error {
		list, owner := l.join(namespace)
		if owner {
			l.run(ctx, namespace, list) // done is closed when it returns
		} else {
			select {
			case <-list.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		mounted = list.mounted[name]
		return list.err
	})
	return mounted, err
}

// join returns the namespace's pending list, or a new one that the caller owns (runs).
func (l *LiveDaemonSets) join(namespace string) (*liveList, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if list := l.pending[namespace]; list != nil {
		return list, false
	}
	list := &liveList{done: make(chan struct{})}
	l.pending[namespace] = list
	return list, true
}

// run waits for a slot, closes list to new reviews, lists and publishes the result. A review
// that gives up waiting fails the list for those that joined it (they fail closed too).
func (l *LiveDaemonSets) run(ctx context.Context, namespace string, list *liveList) {
	defer close(list.done)
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		l.unpend(namespace, list)
		list.err = fmt.Errorf("wait for one of %d live lists: %w", cap(l.slots), ctx.Err())
		return
	}
	defer func() { <-l.slots }()
	l.unpend(namespace, list)
	list.mounted, list.err = l.list(ctx, namespace)
	result := "ok"
	if list.err != nil {
		result = "error"
	}
	liveLists.WithLabelValues(result).Inc()
}

// unpend closes list to reviews that arrive from now on.
func (l *LiveDaemonSets) unpend(namespace string, list *liveList) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending[namespace] == list {
		delete(l.pending, namespace)
	}
}

// list pages through the namespace's DaemonSets and returns the ConfigMaps their proxies mount:
// their templates' and, when there is a proxy, those of its ControllerRevisions (see
// revisionMounts). The DaemonSet controller keeps every revision a live pod was made from, so a
// proxy's pods that still run an earlier template (during a rollout, or under updateStrategy
// OnDelete) keep their ConfigMap checked after the template moved to another.
func (l *LiveDaemonSets) list(ctx context.Context, namespace string) (map[string]bool, error) {
	mounted, proxies := map[string]bool{}, map[string]bool{}
	err := l.pages(ctx, namespace, "daemonsets", l.pageSize, func(r io.Reader) (string, error) {
		return decodeDaemonSetList(r, func(ds *narrowDaemonSet) {
			if ds.isProxy() {
				proxies[ds.name] = true
				for _, name := range ds.mounts {
					mounted[name] = true
				}
			}
		})
	})
	if err != nil || len(proxies) == 0 {
		return mounted, err
	}
	err = l.pages(ctx, namespace, "controllerrevisions", l.pageSize*revisionPages, func(r io.Reader) (string, error) {
		return decodeList(r, func(item []byte) error {
			names, err := revisionMounts(item, func(ds string) bool { return proxies[ds] })
			for _, name := range names {
				mounted[name] = true
			}
			return err
		})
	})
	return mounted, err
}

// revisionPages is how many times pageSize ControllerRevisions one page holds: a DaemonSet
// keeps up to ten and more.
const revisionPages = 5

// pages lists resource (of the apps group) in namespace from the API server, limit a page, in
// protobuf, and hands each page to decode, which returns its continue token.
func (l *LiveDaemonSets) pages(ctx context.Context, namespace, resource string, limit int64, decode func(io.Reader) (string, error)) error {
	cont := ""
	for page := 0; ; page++ {
		req := l.client.Get().Namespace(namespace).Resource(resource).
			Param("limit", strconv.FormatInt(limit, 10)).SetHeader("Accept", "application/vnd.kubernetes.protobuf")
		if cont != "" {
			req = req.Param("continue", cont)
		}
		body, err := req.Stream(ctx)
		if err != nil {
			return fmt.Errorf("%s page %d: %w", resource, page, err)
		}
		cont, err = decode(body)
		_ = body.Close()
		if err != nil {
			return fmt.Errorf("%s page %d: %w", resource, page, err)
		}
		if cont == "" {
			return nil
		}
	}
}
