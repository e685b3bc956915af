package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/internal/configedit"
	"github.com/agentvault/agentvault/internal/services"
	"github.com/agentvault/agentvault/internal/store"
)

// ScanClients lists the MCP clients' config files at p, with their servers.
func (c *Core) ScanClients(_ context.Context, p api.Places) ([]api.ClientConfig, error) {
	var out []api.ClientConfig
	for _, f := range clientsetup.Scan(p) {
		out = append(out, describeFound(f))
	}
	return out, nil
}

func describeFound(f clientsetup.Found) api.ClientConfig {
	cc := api.ClientConfig{Client: f.Client.ID, Name: f.Client.Name, Config: f.Path, Servers: []api.FoundServer{}}
	if f.Err != nil {
		cc.Error = f.Err.Error()
	}
	for _, s := range f.Servers {
		fs := api.FoundServer{Name: s.Name, Scope: s.Place.Scope, URL: s.URL, ThroughAgentVault: s.ThroughAgentVault(), Shared: s.Place.Shared}
		if s.Command != nil {
			fs.Command = services.ShellJoin(s.Command)
		}
		if s.Project != "" {
			fs.Project = &s.Project
		}
		cc.Servers = append(cc.Servers, fs)
	}
	return cc
}

// ImportClient moves a client's servers behind a vault: each chosen server
// becomes a service (checked: it must list its tools), the vault offers
// them, and the client's config reaches them through the vault alone. A
// server that cannot be moved is left where it is, with the reason.
func (c *Core) ImportClient(ctx context.Context, spec api.ImportSpec) (api.ImportResult, error) {
	client, err := clientsetup.Find(spec.Client)
	if err != nil {
		return api.ImportResult{}, err
	}
	if spec.Vault == "" {
		spec.Vault = client.ID
	}
	res := api.ImportResult{Vault: spec.Vault, Moved: []string{}, Services: []string{}, Configs: []string{}}
	chosen, err := chooseServers(client.Scan(spec.Places), spec, &res)
	if err != nil || len(chosen) == 0 {
		return res, err
	}
	existing, err := c.resolve(spec.Vault)
	vaultExists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return res, err
	}
	token := spec.Token
	if vaultExists && token == "" {
		if token, err = c.vaultToken(existing.ID); err != nil {
			return res, err
		}
	}

	var moved []clientsetup.Server
	for _, s := range chosen {
		name, err := c.importService(ctx, s)
		if err != nil {
			res.Skipped = append(res.Skipped, s.Name+": "+err.Error())
			continue
		}
		moved = append(moved, s)
		res.Moved = append(res.Moved, s.Name)
		res.Services = append(res.Services, name)
	}
	if len(moved) == 0 {
		return res, nil
	}
	var vaultID string
	if vaultExists {
		vaultID = existing.ID
		if err := c.SetVaultServices(ctx, vaultID, append(slices.Clone(existing.Services), res.Services...)); err != nil {
			return res, err
		}
	} else {
		nv, err := c.CreateVault(ctx, api.VaultSpec{Name: spec.Vault, Services: res.Services})
		if err != nil {
			return res, err
		}
		vaultID, token, res.Created = nv.ID, nv.Token, &nv
	}
	v, err := c.clientVault(vaultID, spec.Vault, token, spec.Program)
	if err != nil {
		return res, err
	}
	// Each file that held a moved server loses it, and gets the vault.
	byFile := map[string][]clientsetup.Server{}
	var files []string
	for _, s := range moved {
		if byFile[s.Place.Path] == nil {
			files = append(files, s.Place.Path)
		}
		byFile[s.Place.Path] = append(byFile[s.Place.Path], s)
	}
	for _, path := range files {
		place, ok := vaultPlaceOf(client, spec.Places, byFile[path][0].Place)
		if !ok {
			return res, fmt.Errorf("%s has no place for the vault in %s", client.Name, path)
		}
		err := c.editClientConfig(client, path, func(doc *configedit.Doc) ([]configedit.Change, error) {
			var changes []configedit.Change
			for _, s := range byFile[path] {
				ch, err := doc.Remove(s.Key)
				if err != nil {
					return nil, err
				}
				changes = append(changes, ch)
			}
			ch, err := setVaultEntry(doc, client, place, v)
			return append(changes, ch), err
		})
		if err != nil {
			return res, err
		}
		res.Configs = append(res.Configs, path)
	}
	return res, nil
}

// chooseServers picks the servers spec asks for among those found: not
// through AgentVault yet, and in a shared file only with spec.Workspace.
func chooseServers(found []clientsetup.Found, spec api.ImportSpec, res *api.ImportResult) ([]clientsetup.Server, error) {
	var chosen []clientsetup.Server
	var names []string
	for _, f := range found {
		if f.Err != nil {
			res.Skipped = append(res.Skipped, f.Path+": "+f.Err.Error())
		}
		for _, s := range f.Servers {
			if s.ThroughAgentVault() {
				continue
			}
			names = append(names, s.Name)
			switch {
			case len(spec.Servers) > 0 && !slices.Contains(spec.Servers, s.Name):
			case s.Place.Shared && !spec.Workspace:
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: in %s, which a team shares (give --workspace to edit it)", s.Name, s.Place.Path))
			default:
				chosen = append(chosen, s)
			}
		}
	}
	for _, want := range spec.Servers {
		if !slices.Contains(names, want) {
			return nil, fmt.Errorf("%s has no server %q that bypasses AgentVault (it has: %s)", spec.Client, want, strings.Join(names, ", "))
		}
	}
	return chosen, nil
}

// importService adds s as a service (or finds it added before) and returns
// its name.
func (c *Core) importService(ctx context.Context, s clientsetup.Server) (string, error) {
	spec := api.ServiceSpec{Name: serviceNameFor(s.Name), URL: s.URL, Check: true}
	if s.Command != nil {
		spec.Command = services.ShellJoin(s.Command)
	}
	for _, k := range sortedKeys(s.Env) {
		v := s.Env[k]
		switch ref := envReference(v); {
		case ref == k:
			spec.PassEnv = append(spec.PassEnv, k) // the client passed on its own: so does AgentVault
		case strings.Contains(v, "${") || ref != "":
			return "", fmt.Errorf("its variable %s takes %s from the client's environment, which AgentVault cannot see; add it yourself with agentvault service add-mcp", k, v)
		default:
			spec.Env = append(spec.Env, k+"="+v)
		}
	}
	for _, k := range sortedKeys(s.Headers) {
		if v := s.Headers[k]; strings.Contains(v, "${") {
			return "", fmt.Errorf("its header %s takes a value from the client's environment, which AgentVault cannot see; add it yourself with agentvault service add-mcp", k)
		}
		spec.Headers = append(spec.Headers, k+": "+s.Headers[k])
	}
	for i := 2; c.services.Has(spec.Name); i++ {
		if same, _ := c.sameService(spec); same {
			return spec.Name, nil
		}
		spec.Name = fmt.Sprintf("%s-%d", serviceNameFor(s.Name), i)
	}
	info, err := c.services.Add(ctx, spec)
	return info.Name, err
}

// sameService reports whether the configured service named like spec
// starts the same command or reaches the same URL.
func (c *Core) sameService(spec api.ServiceSpec) (bool, error) {
	list, err := c.services.List(context.Background())
	for _, s := range list {
		if s.Name == spec.Name {
			command, _ := services.AbsoluteCommand(spec.Command)
			return (spec.Command != "" && s.Command == command) || (spec.URL != "" && s.URL == spec.URL), err
		}
	}
	return false, err
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// envReference is the variable a value names whole ($NAME or ${NAME}), if
// it does.
func envReference(v string) string {
	if m := wholeReference.FindStringSubmatch(v); m != nil {
		return m[1] + m[2]
	}
	return ""
}

var wholeReference = regexp.MustCompile(`^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$`)

// serviceNameFor is a service name for a client's server name: 1-32
// letters, digits or dashes.
func serviceNameFor(name string) string {
	out := strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '-'
	}, name)
	out = strings.Trim(out, "-")
	if len(out) > 28 {
		out = out[:28]
	}
	if out == "" {
		out = "server"
	}
	return out
}

// vaultPlaceOf is where the vault's entry goes for servers moved from
// place: the same shared file for a shared one, else the user's own file.
func vaultPlaceOf(client clientsetup.Client, p api.Places, from clientsetup.Place) (clientsetup.Place, bool) {
	if from.Shared {
		return from, true
	}
	return client.VaultPlace(p, false)
}

// clientVault is what a client needs to reach the vault id.
func (c *Core) clientVault(id, name, token, program string) (clientsetup.Vault, error) {
	c.mu.Lock()
	url := c.urlLocked(id)
	c.mu.Unlock()
	v := clientsetup.Vault{Name: clientsetup.EntryName(name), URL: url, Token: token,
		Bridge: clientsetup.Bridge{Program: program, Vault: name, Data: c.dataDir}}
	if c.tokenFiles {
		path, err := c.tokenFile(id, token)
		if err != nil {
			return v, err
		}
		v.Bridge.TokenFile = path
	}
	return v, nil
}

// tokenFile keeps a vault's token in a file of the data folder, readable by
// the user alone, for bridges where the secrets are not in the keychain.
func (c *Core) tokenFile(id, token string) (string, error) {
	dir := filepath.Join(c.dataDir, "tokens")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, id)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keeping the vault's token for the bridge: %w", err)
	}
	return path, nil
}

// vaultToken is the token of vault id as AgentVault kept it.
func (c *Core) vaultToken(id string) (string, error) {
	token, err := c.secrets.Get(VaultTokenKey(id))
	if err != nil {
		return "", fmt.Errorf("the vault's token is not kept on this machine (%v): give it (AGENTVAULT_TOKEN or --token-file)", err)
	}
	return token, nil
}

// setVaultEntry writes v's entry for client at place.
func setVaultEntry(doc *configedit.Doc, client clientsetup.Client, place clientsetup.Place, v clientsetup.Vault) (configedit.Change, error) {
	path := append(slices.Clone(place.Servers), v.Name)
	if entries, _ := doc.Entries(place.Servers); entries[v.Name] != nil {
		if found, _ := clientsetup.DecodeServer(entries[v.Name]); !found.ThroughAgentVault() {
			return configedit.Change{}, fmt.Errorf("%s already has a server named %s; remove it, or use another vault name", place.Path, v.Name)
		}
	}
	text, err := doc.Format(path, client.Entry(v, place.Shared))
	if err != nil {
		return configedit.Change{}, err
	}
	return doc.Set(path, text)
}

// WriteClient adds a vault to a client's config file.
func (c *Core) WriteClient(_ context.Context, spec api.ClientSetup) (api.EditResult, error) {
	client, err := clientsetup.Find(spec.Client)
	if err != nil {
		return api.EditResult{}, err
	}
	v, err := c.resolve(spec.Vault)
	if err != nil {
		return api.EditResult{}, err
	}
	place, ok := client.VaultPlace(spec.Places, spec.Workspace)
	if spec.Config != "" {
		place.Path, ok = spec.Config, ok || len(client.Places(spec.Places)) > 0
		if len(place.Servers) == 0 {
			place.Servers = client.Places(spec.Places)[0].Servers
		}
	}
	if !ok {
		return api.EditResult{}, fmt.Errorf("%s has no config file AgentVault can write to; paste the snippet instead", client.Name)
	}
	token := spec.Token
	if token == "" && !place.Shared {
		if token, err = c.vaultToken(v.ID); err != nil {
			return api.EditResult{}, err
		}
	}
	cv, err := c.clientVault(v.ID, v.Name, token, spec.Program)
	if err != nil {
		return api.EditResult{}, err
	}
	err = c.editClientConfig(client, place.Path, func(doc *configedit.Doc) ([]configedit.Change, error) {
		ch, err := setVaultEntry(doc, client, place, cv)
		return []configedit.Change{ch}, err
	})
	return api.EditResult{Configs: []string{place.Path}}, err
}

// editClientConfig loads a client's config file, edits it, and records the
// changes before saving it: so every change AgentVault makes can be undone.
func (c *Core) editClientConfig(client clientsetup.Client, path string, edit func(doc *configedit.Doc) ([]configedit.Change, error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	doc, err := configedit.Load(path, client.Format())
	if err != nil {
		return err
	}
	changes, err := edit(doc)
	if err != nil {
		return err
	}
	rec, err := c.store.ConfigEdits(path)
	if err != nil {
		return err
	}
	made, err := c.keepEdit(client.ID, doc.Created(), changes)
	if err != nil {
		return err
	}
	rec.Edits = append(rec.Edits, made)
	if err := c.store.PutConfigEdits(rec); err != nil {
		c.forgetEdit(made)
		return err
	}
	if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
		err = doc.Save(path)
	}
	if err != nil {
		rec.Edits = rec.Edits[:len(rec.Edits)-1] // not made: not to be undone
		_ = c.store.PutConfigEdits(rec)
		c.forgetEdit(made)
		return err
	}
	return nil
}

// keepEdit is the record of changes: what they wrote as digests, what they
// replaced in the keychain.
func (c *Core) keepEdit(client string, created bool, changes []configedit.Change) (store.ConfigEdit, error) {
	e := store.ConfigEdit{Time: time.Now().UTC(), Client: client, Created: created}
	befores := make([]string, len(changes))
	replaced := false
	for i, ch := range changes {
		befores[i], replaced = ch.Before, replaced || ch.Before != ""
		ch.Before = ""
		e.Changes = append(e.Changes, ch.Sealed())
	}
	if !replaced {
		return e, nil
	}
	e.BeforeKey = "client-edit/" + newID()
	raw, _ := json.Marshal(befores)
	if err := c.secrets.Set(e.BeforeKey, string(raw)); err != nil {
		return e, fmt.Errorf("keeping what the edit replaces, to undo it later: %w", err)
	}
	return e, nil
}

func (c *Core) forgetEdit(e store.ConfigEdit) {
	if e.BeforeKey != "" {
		_ = c.secrets.Delete(e.BeforeKey)
	}
}

// editChanges reads back what an edit changed.
func (c *Core) editChanges(e store.ConfigEdit) ([]configedit.Change, error) {
	if e.BeforeKey == "" {
		return e.Changes, nil
	}
	raw, err := c.secrets.Get(e.BeforeKey)
	if err != nil {
		return nil, fmt.Errorf("reading what the edit of %s replaced: %w", e.Time.Local().Format(time.DateTime), err)
	}
	var befores []string
	if err := json.Unmarshal([]byte(raw), &befores); err != nil || len(befores) != len(e.Changes) {
		return nil, fmt.Errorf("the record of the edit of %s is damaged", e.Time.Local().Format(time.DateTime))
	}
	changes := slices.Clone(e.Changes)
	for i := range changes {
		changes[i].Before = befores[i]
	}
	return changes, nil
}

// UndoClient reverses AgentVault's edits of a client's config files (or of
// one), newest first, on the files as they are now: entries changed by hand
// since are left alone and named, and a file AgentVault created goes once
// it holds nothing else.
func (c *Core) UndoClient(_ context.Context, spec api.ClientUndo) (api.EditResult, error) {
	client, err := clientsetup.Find(spec.Client)
	if err != nil {
		return api.EditResult{}, err
	}
	var paths []string
	if spec.Config != "" {
		paths = []string{spec.Config}
	} else {
		for _, pl := range client.Places(spec.Places) {
			if (!pl.Shared || spec.Workspace) && !slices.Contains(paths, pl.Path) {
				paths = append(paths, pl.Path)
			}
		}
	}
	res := api.EditResult{Configs: []string{}}
	for _, path := range paths {
		done, err := c.undoFile(client, path, spec.Last, &res)
		if err != nil {
			return res, fmt.Errorf("%s: %w", path, err)
		}
		if done {
			res.Configs = append(res.Configs, path)
		}
	}
	if len(res.Configs) == 0 {
		return res, fmt.Errorf("AgentVault has made no change to %s's config to undo", client.Name)
	}
	return res, nil
}

// undoFile reverses the recorded edits of one file (or retires the backup
// an earlier AgentVault kept of it), reporting whether there were any.
func (c *Core) undoFile(client clientsetup.Client, path string, last bool, res *api.EditResult) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, err := c.store.ConfigEdits(path)
	if err != nil {
		return false, err
	}
	if len(rec.Edits) == 0 {
		_, found, err := client.RetireBackup(path)
		return found, err
	}
	undo := rec.Edits
	if last {
		undo = undo[len(undo)-1:]
	}
	doc, err := configedit.Load(path, client.Format())
	if err != nil {
		return false, err
	}
	var changes []configedit.Change
	for _, e := range undo {
		ch, err := c.editChanges(e)
		if err != nil {
			return false, err
		}
		changes = append(changes, ch...)
	}
	kept, err := doc.Revert(changes)
	if err != nil {
		return false, err
	}
	for _, k := range kept {
		res.Kept = append(res.Kept, path+": "+k)
	}
	if undo[0].Created && doc.Empty() {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, err
		}
		res.Removed = append(res.Removed, path)
	} else if err := doc.Save(path); err != nil {
		return false, err
	}
	for _, e := range undo {
		c.forgetEdit(e)
	}
	rec.Edits = rec.Edits[:len(rec.Edits)-len(undo)]
	return true, c.store.PutConfigEdits(rec)
}
