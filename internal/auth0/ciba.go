package auth0

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/agentvault/agentvault/internal/approval"
)

const grantCIBA = "urn:openid:params:grant-type:ciba"

// CIBA outcomes other than approval.
var (
	// ErrDenied means the user denied, or the request expired: Auth0 does
	// not tell the two apart, so compare with your own deadline.
	ErrDenied  = errors.New("denied on the phone, or expired")
	ErrExpired = errors.New("the phone request expired")
	// ErrGone means the request id is unknown or was already used.
	ErrGone = errors.New("the phone request is no longer known")
	// ErrNoCIBA means the tenant does not offer CIBA.
	ErrNoCIBA = errors.New("this Auth0 tenant does not offer CIBA (an Enterprise feature)")
)

// CIBARequest is a started backchannel authentication.
type CIBARequest struct {
	ID       string
	Interval time.Duration
	Expires  time.Time
}

// bindingSafe is what Auth0 accepts in a binding message.
var bindingUnsafe = regexp.MustCompile(`[^A-Za-z0-9+\-_.,:#]`)

// BindingMessage is the text shown on the phone for p, in at most 64 of
// the characters Auth0 allows: its code (the same as on the desktop), the
// tool with its hints in short (read, write or destroys; open when it
// reaches outside), "#flow" when data-flow protection asks, and "+N" when
// the call has N arguments, which the phone cannot show.
func BindingMessage(p approval.Pending) string {
	suffix := ""
	if p.Flow != "" {
		suffix = "#flow"
	}
	if n := len(p.Fields()); n > 0 {
		suffix += fmt.Sprintf("+%d", n)
	}
	if short := p.Hints.Short(); short != "" {
		suffix = ":" + short + suffix
	}
	m := bindingUnsafe.ReplaceAllString(p.Code+":"+p.Tool, "_")
	return m[:min(len(m), 64-len(suffix))] + suffix
}

// StartCIBA asks the user with Auth0 id sub to approve on their phone.
func (c *Client) StartCIBA(ctx context.Context, sub, bindingMessage string, expiry time.Duration) (CIBARequest, error) {
	e, err := c.Endpoints(ctx)
	if err != nil {
		return CIBARequest{}, err
	}
	if e.Backchannel == "" {
		return CIBARequest{}, ErrNoCIBA
	}
	hint, _ := json.Marshal(map[string]string{"format": "iss_sub", "iss": e.Issuer, "sub": sub})
	secs := int(min(max(expiry, time.Second), 300*time.Second) / time.Second)
	var out struct {
		AuthReqID string `json:"auth_req_id"`
		ExpiresIn int    `json:"expires_in"`
		Interval  int    `json:"interval"`
	}
	start := time.Now()
	err = c.post(ctx, e.Backchannel, url.Values{
		"login_hint":       {string(hint)},
		"scope":            {"openid"},
		"binding_message":  {bindingMessage},
		"requested_expiry": {strconv.Itoa(secs)},
	}, &out)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Code == "invalid_request" {
			return CIBARequest{}, fmt.Errorf("Auth0 refused the phone request (is the user enrolled for push?): %w", err)
		}
		return CIBARequest{}, err
	}
	r := CIBARequest{ID: out.AuthReqID, Interval: time.Duration(out.Interval) * time.Second,
		Expires: start.Add(time.Duration(out.ExpiresIn) * time.Second)}
	if r.Interval <= 0 {
		r.Interval = 5 * time.Second
	}
	return r, nil
}

// Sleep waits d or until ctx ends; tests pass one that does not sleep.
type Sleep func(ctx context.Context, d time.Duration) error

// RealSleep waits on the clock.
func RealSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// PollCIBA waits for the answer to r, honouring interval, slow_down and
// Retry-After, and returns the approver's subject.
func (c *Client) PollCIBA(ctx context.Context, r CIBARequest, sleep Sleep) (string, error) {
	e, err := c.Endpoints(ctx)
	if err != nil {
		return "", err
	}
	interval := r.Interval
	for {
		if err := sleep(ctx, interval); err != nil {
			return "", err
		}
		var out struct {
			IDToken string `json:"id_token"`
		}
		err := c.post(ctx, e.Token, url.Values{"grant_type": {grantCIBA}, "auth_req_id": {r.ID}}, &out)
		var ae *Error
		switch {
		case err == nil:
			return subject(out.IDToken)
		case !errors.As(err, &ae):
			return "", err
		case ae.Code == "authorization_pending":
		case ae.Code == "slow_down":
			interval = max(ae.RetryAfter, interval+5*time.Second)
		case ae.Code == "access_denied":
			return "", ErrDenied
		case ae.Code == "expired_token":
			return "", ErrExpired
		case ae.Code == "invalid_grant":
			return "", ErrGone
		default:
			return "", err
		}
	}
}

// Channel asks for approvals with a push to the user's phone (Auth0 CIBA,
// Guardian). It is the one channel an agent running on the same desktop
// cannot answer.
type Channel struct {
	Client *Client
	// Subject is the user's Auth0 id (from login).
	Subject string
	// Sleep paces polling; nil: RealSleep.
	Sleep Sleep
	// Now; nil: time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

var _ approval.Channel = (*Channel)(nil)

// Name implements approval.Channel.
func (*Channel) Name() string { return "ciba" }

// Open implements approval.Channel: it sends the push and polls in the
// background until an answer, the deadline, or withdrawal.
func (ch *Channel) Open(p approval.Pending, answer func(approval.Answer) error) func() {
	sleep, now, log := ch.Sleep, ch.Now, ch.Logger
	if sleep == nil {
		sleep = RealSleep
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithDeadline(context.Background(), p.Deadline)
	go func() {
		defer cancel()
		req, err := ch.Client.StartCIBA(ctx, ch.Subject, BindingMessage(p), p.Deadline.Sub(now()))
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("phone approval could not start", "err", err)
			}
			return
		}
		sub, err := ch.Client.PollCIBA(ctx, req, sleep)
		whole := len(p.Fields()) == 0 // the phone shows no arguments
		a := approval.Answer{Approver: sub, ArgsDigest: p.ArgsDigest, WholeCall: &whole}
		switch {
		case err == nil:
			a.Approve, a.Scope = true, approval.Once
		case errors.Is(err, ErrDenied) && now().Before(req.Expires):
			a.Reason = "the user denied this call on their phone"
		default:
			// Expired, withdrawn, or a failure: other channels still apply.
			if ctx.Err() == nil {
				log.Info("phone approval ended without an answer", "err", err)
			}
			return
		}
		if err := answer(a); err != nil {
			log.Info("phone answer refused", "err", err)
		}
	}()
	return cancel
}
