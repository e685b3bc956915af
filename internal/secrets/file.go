package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/scrypt"

	"github.com/agentvault/agentvault/internal/atomicfile"
)

// File keeps secrets in one file encrypted with a key derived from a
// passphrase (scrypt, AES-256-GCM): the fallback for machines without a
// keychain service. Nothing is ever written in plaintext; a wrong
// passphrase or a changed file is an error, never an empty store.
//
// Layout: 16-byte salt, 12-byte nonce, then the sealed JSON object.
type File struct {
	Path       string
	Passphrase string

	mu sync.Mutex
}

var _ Store = (*File)(nil)

// ErrPassphrase means the file cannot be opened with this passphrase (or
// was changed by something else).
var ErrPassphrase = errors.New("the secrets file cannot be opened with this passphrase (or it was altered)")

const (
	saltLen  = 16
	nonceLen = 12
)

func key(passphrase string, salt []byte) ([]byte, error) {
	return scrypt.Key([]byte(passphrase), salt, 1<<15, 8, 1, 32)
}

// read decrypts the file; a missing file is an empty store.
func (f *File) read() (map[string]string, error) {
	raw, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	if len(raw) < saltLen+nonceLen {
		return nil, ErrPassphrase
	}
	k, err := key(f.Passphrase, raw[:saltLen])
	if err != nil {
		return nil, err
	}
	aead, err := gcm(k)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, raw[saltLen:saltLen+nonceLen], raw[saltLen+nonceLen:], nil)
	if err != nil {
		return nil, ErrPassphrase
	}
	m := map[string]string{}
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, ErrPassphrase
	}
	return m, nil
}

// write encrypts m with a fresh salt and nonce and replaces the file
// atomically (mode 0600).
func (f *File) write(m map[string]string) error {
	plain, err := json.Marshal(m)
	if err != nil {
		return err
	}
	head := make([]byte, saltLen+nonceLen)
	if _, err := rand.Read(head); err != nil {
		return err
	}
	k, err := key(f.Passphrase, head[:saltLen])
	if err != nil {
		return err
	}
	aead, err := gcm(k)
	if err != nil {
		return err
	}
	sealed := aead.Seal(head, head[saltLen:], plain, nil)
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteBytes(f.Path, 0o600, sealed)
}

func gcm(k []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Check opens the file with the passphrase: ErrPassphrase if it cannot (a
// missing file is fine: it is made on the first Set).
func (f *File) Check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.read()
	return err
}

// Get implements Store.
func (f *File) Get(k string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return "", err
	}
	v, ok := m[k]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

// Set implements Store.
func (f *File) Set(k, v string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return err
	}
	m[k] = v
	if err := f.write(m); err != nil {
		return fmt.Errorf("writing the secrets file: %w", err)
	}
	return nil
}

// Delete implements Store.
func (f *File) Delete(k string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, err := f.read()
	if err != nil {
		return err
	}
	if _, ok := m[k]; !ok {
		return nil
	}
	delete(m, k)
	return f.write(m)
}
