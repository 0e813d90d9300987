package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// limit bounds what reviews in progress may hold.
//
// A small review (Content-Length at most SmallReviewBytes: every proxy DaemonSet and its config)
// is read whole, within BodyTimeout, before it takes one of cap(s.smallSlots) slots. A client
// that announces a body and never sends it therefore holds a connection (capped: see
// connLimitListener) and at most SmallReviewBytes of buffer, never a slot, and only for
// BodyTimeout: the API server writes a review's body right after its headers, so two seconds is
// far more than it needs and well inside the webhooks' 5 s timeout.
//
// A review without Content-Length (a chunked body) is refused with 411 before it takes anything:
// the API server always sends Content-Length, and a body of unknown length could otherwise be
// trickled in to hold a large slot.
//
// A large review takes one of cap(s.slots) slots first, then its body is read (at most
// MaxReviewBytes, within the server's ReadTimeout): buffering it before a slot would let waiting
// clients hold MaxReviewBytes each. Slow large bodies with a Content-Length can still hold the few
// large slots for ReadTimeout, which delays only other large reviews: no proxy object is large.
//
// A review that finds no free slot waits up to InFlightWait for one and is then refused at once
// with 429 and a message that says why.
func (s *webhookServer) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 {
			// A body of unknown length (chunked): the API server always sends Content-Length.
			// Refused before any slot, so that a trickle of chunks holds none.
			rejectedReviews.WithLabelValues("length-required").Inc()
			s.logger.V(1).Info("review refused: no Content-Length", "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("Connection", "close")
			http.Error(w, "metrics-proxy: a review needs a Content-Length", http.StatusLengthRequired)
			return
		}
		slots, size := s.slots, "large"
		if r.ContentLength <= SmallReviewBytes {
			slots, size = s.smallSlots, "small"
			// Shorter than the server's ReadTimeout, which still bounds the large ones.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(BodyTimeout))
			body := make([]byte, r.ContentLength)
			if _, err := io.ReadFull(r.Body, body); err != nil {
				rejectedReviews.WithLabelValues("slow-body").Inc()
				s.logger.V(1).Info("review refused: body not received", "path", r.URL.Path, "remote", r.RemoteAddr, "error", err.Error())
				http.Error(w, fmt.Sprintf("metrics-proxy: the review's body did not arrive within %s", BodyTimeout), http.StatusRequestTimeout)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		select {
		case slots <- struct{}{}:
		default:
			timer := time.NewTimer(InFlightWait)
			defer timer.Stop()
			select {
			case slots <- struct{}{}:
			case <-timer.C:
				rejectedReviews.WithLabelValues("in-flight").Inc()
				s.logger.Info("review refused: too many in flight", "path", r.URL.Path, "size", size, "maxInFlight", cap(slots), "remote", r.RemoteAddr)
				tooMany(w, r, fmt.Sprintf("metrics-proxy: too many %s admission reviews in flight (at most %d); retry", size, cap(slots)))
				return
			case <-r.Context().Done():
				return
			}
		}
		defer func() { <-slots }()
		r.Body = http.MaxBytesReader(w, r.Body, MaxReviewBytes)
		next.ServeHTTP(w, r)
	})
}

// uidPattern finds a review's uid, which the API server writes first in the request.
var uidPattern = regexp.MustCompile(`"request":\s*\{\s*"uid":\s*"([0-9a-zA-Z-]{1,64})"`)

// tooMany refuses a review. When the uid is among the first bytes of the body (the API server
// writes it there), the answer is an AdmissionReview that denies with code 429 and msg, which the
// API server shows to the user; otherwise a plain 429 with msg.
func tooMany(w http.ResponseWriter, r *http.Request, msg string) {
	head := make([]byte, 512)
	n, _ := io.ReadFull(r.Body, head)
	m := uidPattern.FindSubmatch(head[:n])
	if m == nil {
		http.Error(w, msg, http.StatusTooManyRequests)
		return
	}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Response: &admissionv1.AdmissionResponse{UID: types.UID(m[1]), Allowed: false,
			Result: &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusTooManyRequests,
				Reason: metav1.StatusReasonTooManyRequests, Message: msg}},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(review)
}
