package server

import (
	"crypto/sha1"
	"encoding/base64"

	"mqstack/proto/jute"
)

func digestOf(userPw string) string {
	sum := sha1.Sum([]byte(userPw))
	return base64.StdEncoding.EncodeToString(sum[:])
}

type authPacket struct {
	scheme string
	auth   []byte
}

func (a *authPacket) Encode(e *jute.Encoder) {
	p := jute.AuthPacket{Type: 0, Scheme: a.scheme, Auth: a.auth}
	p.Encode(e)
}
func (a *authPacket) Decode(d *jute.Decoder) {}
