package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"mqstack/eagle/internal/store"
)

// Roles, each allowed what the one before it is.
const (
	RoleViewer   = "viewer"   // reads every page
	RoleOperator = "operator" // creates topics, adds partitions, alters configs, sends messages, resets offsets, tests alerts
	RoleAdmin    = "admin"    // deletes topics, manages users, reads the audit log
)

func roleRank(r string) int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleOperator:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

const (
	sessionCookie = "eagle_session"
	sessionTTL    = 12 * time.Hour
)

// session is a logged-in browser.
type session struct {
	User, Role string
	CSRF       string
	MustChange bool
	Expires    time.Time
}

type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

func newSessions() *sessions { return &sessions{m: map[string]*session{}} }

func token() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (ss *sessions) create(u store.User) (string, *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := time.Now()
	for k, v := range ss.m {
		if now.After(v.Expires) {
			delete(ss.m, k)
		}
	}
	id := token()
	s := &session{User: u.Name, Role: u.Role, CSRF: token(), MustChange: u.MustChange, Expires: now.Add(sessionTTL)}
	ss.m[id] = s
	return id, s
}

func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok || time.Now().After(s.Expires) {
		delete(ss.m, id)
		return nil
	}
	cp := *s
	return &cp
}

func (ss *sessions) update(id string, f func(*session)) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s, ok := ss.m[id]; ok {
		f(s)
	}
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// dropUser ends every session of a user (deleted or role changed).
func (ss *sessions) dropUser(name string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, v := range ss.m {
		if v.User == name {
			delete(ss.m, k)
		}
	}
}

type ctxKey int

const (
	ctxSession ctxKey = iota
	ctxSessionID
)

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(ctxSession).(*session)
	return s
}

// errLogin is the single message for a bad user or password.
var errLogin = errors.New("wrong user name or password")

func (s *Server) checkPassword(ctx context.Context, user, pw string) (store.User, error) {
	u, err := s.store.GetUser(ctx, user)
	if err != nil {
		// spend the same time as a real comparison
		_ = bcrypt.CompareHashAndPassword([]byte("$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z0cRN8jvP.8tWGzSsRnWBqxa"), []byte(pw))
		return u, errLogin
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(pw)) != nil {
		return u, errLogin
	}
	return u, nil
}

// auth wraps a handler: a session cookie (browsers) or HTTP basic auth on
// GET (curl); role is the least role allowed; POSTs need the session's
// CSRF token. A user who must change the password is sent to do so.
func (s *Server) auth(role string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var sess *session
		var id string
		if c, err := r.Cookie(sessionCookie); err == nil {
			id = c.Value
			sess = s.sessions.get(id)
		}
		if sess == nil {
			if user, pw, ok := r.BasicAuth(); ok && r.Method == http.MethodGet {
				u, err := s.checkPassword(r.Context(), user, pw)
				if err != nil {
					http.Error(w, "eagle: "+err.Error(), http.StatusUnauthorized)
					return
				}
				sess = &session{User: u.Name, Role: u.Role, MustChange: u.MustChange}
			}
		}
		if sess == nil {
			if wantsJSON(r) {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "log in: POST /login (user, password) or use HTTP basic auth"})
				return
			}
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if sess.MustChange && r.URL.Path != "/account/password" && r.URL.Path != "/logout" {
			if wantsJSON(r) || id == "" {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "the password of " + sess.User + " must be changed first: log in with a browser, or POST /account/password"})
				return
			}
			http.Redirect(w, r, "/account/password", http.StatusSeeOther)
			return
		}
		if roleRank(sess.Role) < roleRank(role) {
			s.fail(w, r, http.StatusForbidden, "this needs the "+role+" role; "+sess.User+" is "+sess.Role)
			return
		}
		if r.Method == http.MethodPost {
			if id == "" || subtle.ConstantTimeCompare([]byte(r.FormValue("csrf")), []byte(sess.CSRF)) != 1 {
				s.fail(w, r, http.StatusForbidden, "missing or stale form token (CSRF): reload the page and try again")
				return
			}
		}
		ctx := context.WithValue(r.Context(), ctxSession, sess)
		ctx = context.WithValue(ctx, ctxSessionID, id)
		h(w, r.WithContext(ctx))
	}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login", map[string]any{"Next": safeNext(r.FormValue("next"))})
}

func safeNext(n string) string {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") {
		return "/"
	}
	return n
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	user, pw := strings.TrimSpace(r.FormValue("user")), r.FormValue("password")
	u, err := s.checkPassword(r.Context(), user, pw)
	if err != nil {
		s.log.Warn().Str("user", user).Str("remote", r.RemoteAddr).Msg("login failed")
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, "login", map[string]any{"Next": safeNext(r.FormValue("next")), "Error": err.Error()})
		return
	}
	id, _ := s.sessions.create(u)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(sessionTTL.Seconds())})
	_ = s.store.Audit(r.Context(), u.Name, "login", "from "+r.RemoteAddr)
	if u.MustChange {
		http.Redirect(w, r, "/account/password", http.StatusSeeOther)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"user": u.Name, "role": u.Role})
		return
	}
	http.Redirect(w, r, safeNext(r.FormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if id, _ := r.Context().Value(ctxSessionID).(string); id != "" {
		s.sessions.drop(id)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "password", map[string]any{"MustChange": sessionOf(r).MustChange})
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	sess := sessionOf(r)
	old, nw, again := r.FormValue("old"), r.FormValue("new"), r.FormValue("again")
	fail := func(msg string) {
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, r, "password", map[string]any{"MustChange": sess.MustChange, "Error": msg})
	}
	u, err := s.checkPassword(r.Context(), sess.User, old)
	if err != nil {
		fail("the current password is wrong")
		return
	}
	switch {
	case len(nw) < 8:
		fail("the new password needs at least 8 characters")
		return
	case nw != again:
		fail("the two new passwords differ")
		return
	case nw == old:
		fail("the new password must differ from the current one")
		return
	}
	h, err := bcrypt.GenerateFromPassword([]byte(nw), bcrypt.DefaultCost)
	if err != nil {
		fail(err.Error())
		return
	}
	u.Hash, u.MustChange = string(h), false
	if err := s.store.PutUser(r.Context(), u); err != nil {
		fail(err.Error())
		return
	}
	id, _ := r.Context().Value(ctxSessionID).(string)
	s.sessions.update(id, func(x *session) { x.MustChange = false })
	_ = s.store.Audit(r.Context(), u.Name, "password.change", "")
	s.flash(w, r, "/", "password changed")
}
