package cli

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/keys"
)

// newKeysCmd builds `cella keys` and its subcommands inspect, new, sign and verify.
func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, inspect and use sr25519 account keys",
		Long: `Create, inspect and use sr25519 account keys. Keys, secret URIs and
signatures are those of Substrate's subkey and polkadot.js: //Alice, a BIP39
mnemonic with an optional //hard/soft derivation path and ///password, or a
0x-prefixed 32-byte seed. Addresses are SS58.`,
	}
	cmd.AddCommand(newKeysInspectCmd(), newKeysNewCmd(), newKeysSignCmd(), newKeysVerifyCmd())
	return cmd
}

// prefixFlag adds --network-prefix (the SS58 address prefix; -1 = default).
func prefixFlag(cmd *cobra.Command) *int {
	return cmd.Flags().Int("network-prefix", -1, fmt.Sprintf("SS58 address prefix, 0..16383 (default %d, or the prefix of an address given as input)", keys.DefaultSS58Prefix))
}

// resolvePrefix checks --network-prefix and returns the prefix to use,
// falling back to def when the flag is not set.
func resolvePrefix(p int, def uint16) (uint16, error) {
	if p == -1 {
		return def, nil
	}
	if p < 0 || p > 16383 {
		return 0, fmt.Errorf("--network-prefix must be between 0 and 16383, not %d", p)
	}
	return uint16(p), nil
}

// keyInfo is the description of a key printed by inspect and new. The JSON
// field names follow subkey's --output-type json.
type keyInfo struct {
	SecretPhrase  string `json:"secretPhrase,omitempty"`
	SecretSeed    string `json:"secretSeed,omitempty"`
	PublicKey     string `json:"publicKey"`
	AccountID     string `json:"accountId"`
	SS58PublicKey string `json:"ss58PublicKey"`
	SS58Address   string `json:"ss58Address"`

	header string // text-mode first line
	prefix int    // SS58 prefix shown for address input, or -1
}

func newKeyInfo(pub keys.PublicKey, prefix uint16) keyInfo {
	addr := keys.EncodeSS58(pub, prefix)
	return keyInfo{
		PublicKey: pub.Hex(), AccountID: pub.Hex(),
		SS58PublicKey: addr, SS58Address: addr,
		prefix: -1,
	}
}

// pairInfo describes a pair derived from the secret URI suri.
func pairInfo(suri string, pair *keys.Pair, prefix uint16) keyInfo {
	info := newKeyInfo(pair.Public(), prefix)
	if seed, ok := pair.Seed(); ok {
		info.SecretSeed = "0x" + hex.EncodeToString(seed[:])
	}
	u, err := keys.ParseURI(suri)
	if err == nil && u.Phrase != "" && !u.IsHexSeed() {
		info.SecretPhrase = strings.Join(strings.Fields(u.Phrase), " ")
	}
	if err == nil && u.PathText == "" && !u.HasPassword && info.SecretPhrase != "" {
		info.header = "Secret phrase:       " + info.SecretPhrase
		return info
	}
	info.header = fmt.Sprintf("Secret Key URI `%s` is account:", maskPassword(suri))
	if info.SecretPhrase != "" {
		info.header += "\n  Secret phrase:     " + info.SecretPhrase
	}
	return info
}

// maskPassword hides the password part ("///…") of a secret URI.
func maskPassword(suri string) string {
	if i := strings.Index(suri, "///"); i >= 0 {
		return suri[:i] + "///***"
	}
	return suri
}

func (k keyInfo) print(w io.Writer, output string) error {
	if output == "json" {
		return printJSON(w, k)
	}
	var b strings.Builder
	b.WriteString(k.header + "\n")
	if k.prefix >= 0 {
		fmt.Fprintf(&b, "  SS58 prefix:       %d\n", k.prefix)
	}
	if k.SecretSeed != "" {
		fmt.Fprintf(&b, "  Secret seed:       %s\n", k.SecretSeed)
	}
	fmt.Fprintf(&b, "  Public key (hex):  %s\n", k.PublicKey)
	fmt.Fprintf(&b, "  Account ID:        %s\n", k.AccountID)
	fmt.Fprintf(&b, "  Public key (SS58): %s\n", k.SS58PublicKey)
	fmt.Fprintf(&b, "  SS58 Address:      %s\n", k.SS58Address)
	_, err := io.WriteString(w, b.String())
	return err
}

func newKeysInspectCmd() *cobra.Command {
	var public bool
	cmd := &cobra.Command{
		Use:   "inspect [suri-or-address]",
		Short: "Show the public key and address of a secret URI or an address",
		Long: `Show the public key and addresses of a secret URI (//Alice, a mnemonic with an
optional derivation path and ///password, 0xSEED) or of an SS58 address or 0x
public key (with --public). The secret seed and phrase are shown only when the
input contains them.

Without an argument the secret URI is read from --suri-file or the CELLA_SURI
environment variable, so that it does not appear in the process list.`,
		Example: `  cella keys inspect //Alice
  cella keys inspect "bottom drive obey lake curtain smoke basket hold race lonely fit walk//Alice//stash"
  cella keys inspect 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY --network-prefix 0
  cella keys inspect --public 0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d
  CELLA_SURI="word1 … word12" cella keys inspect --output json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			output := cmd.Flag("output").Value.String()
			if err := checkOutput(output); err != nil {
				return err
			}
			np, _ := cmd.Flags().GetInt("network-prefix")
			var input string
			if len(args) == 1 {
				if f := cmd.Flag("suri-file"); f.Changed && f.Value.String() != os.Getenv("CELLA_SURI_FILE") {
					return errors.New("give the secret URI either as an argument or with --suri-file, not both")
				}
				input = args[0]
				if !public {
					if _, err := keys.FromURI(input); err == nil {
						warnArgvSecret(cmd.ErrOrStderr(), "the argument", input, secretSources("suri-file"), nil)
					}
				}
			} else {
				if public {
					return errors.New("--public needs the public key or address as an argument")
				}
				if !cmd.Flags().Changed("suri-file") && os.Getenv(suriEnv) == "" {
					return fmt.Errorf("nothing to inspect: give a secret URI or address as an argument, or use --suri-file or %s", suriEnv)
				}
				s, err := readSecretURI(cmd, "", "suri-file")
				if err != nil {
					return err
				}
				input = s
			}
			info, err := inspect(input, public, np)
			if err != nil {
				return err
			}
			return info.print(cmd.OutOrStdout(), output)
		},
	}
	cmd.Flags().BoolVar(&public, "public", false, "treat the argument as a public key or address (a 0x argument is otherwise a secret seed)")
	cmd.Flags().String("suri-file", "", "read the secret URI from this file")
	prefixFlag(cmd)
	outputFlag(cmd)
	return cmd
}

// inspect describes input: a secret URI, or (when public is set or the input
// is not a secret URI) an SS58 address or 0x public key.
func inspect(input string, public bool, np int) (keyInfo, error) {
	if !public {
		prefix, err := resolvePrefix(np, keys.DefaultSS58Prefix)
		if err != nil {
			return keyInfo{}, err
		}
		pair, uriErr := keys.FromURI(input)
		if uriErr == nil {
			return pairInfo(input, pair, prefix), nil
		}
		// Not a secret URI; an SS58 address is a single base58 word.
		if strings.ContainsAny(input, " /") || strings.HasPrefix(input, "0x") {
			return keyInfo{}, uriErr
		}
		if _, _, err := keys.DecodeSS58(input); err != nil {
			return keyInfo{}, fmt.Errorf("%q is neither a secret URI nor an SS58 address: %v", input, err)
		}
	}
	var (
		pub        keys.PublicKey
		addrPrefix = uint16(keys.DefaultSS58Prefix)
		isAddress  bool
	)
	if strings.HasPrefix(input, "0x") || strings.HasPrefix(input, "0X") {
		p, err := keys.ParseAccount(input)
		if err != nil {
			return keyInfo{}, err
		}
		pub = p
	} else {
		p, pr, err := keys.DecodeSS58(input)
		if err != nil {
			return keyInfo{}, fmt.Errorf("invalid address %q: %w", input, err)
		}
		pub, addrPrefix, isAddress = p, pr, true
	}
	prefix, err := resolvePrefix(np, addrPrefix)
	if err != nil {
		return keyInfo{}, err
	}
	info := newKeyInfo(pub, prefix)
	info.header = fmt.Sprintf("Public Key URI `%s` is account:", input)
	if isAddress {
		info.prefix = int(addrPrefix)
	}
	return info, nil
}

func newKeysNewCmd() *cobra.Command {
	var words int
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Generate a new mnemonic and show its account",
		Long: `Generate a new random BIP39 mnemonic (12 or 24 words) and show its account.
Keep the phrase secret and safe: anyone who has it controls the account.`,
		Example: `  cella keys new
  cella keys new --words 24 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output := cmd.Flag("output").Value.String()
			if err := checkOutput(output); err != nil {
				return err
			}
			np, _ := cmd.Flags().GetInt("network-prefix")
			prefix, err := resolvePrefix(np, keys.DefaultSS58Prefix)
			if err != nil {
				return err
			}
			if words != 12 && words != 24 {
				return fmt.Errorf("--words must be 12 or 24, not %d", words)
			}
			phrase, err := keys.NewMnemonic(words)
			if err != nil {
				return err
			}
			pair, err := keys.FromURI(phrase)
			if err != nil {
				return err
			}
			return pairInfo(phrase, pair, prefix).print(cmd.OutOrStdout(), output)
		},
	}
	cmd.Flags().IntVar(&words, "words", 12, "number of words: 12 or 24")
	prefixFlag(cmd)
	outputFlag(cmd)
	return cmd
}

// parseMessage returns the bytes of a --message value: hex-decoded when it
// starts with 0x, its UTF-8 text otherwise.
func parseMessage(m string) ([]byte, error) {
	if strings.HasPrefix(m, "0x") {
		b, err := hex.DecodeString(m[2:])
		if err != nil {
			return nil, errors.New("--message starts with 0x but the rest is not valid hex (to sign the text itself, drop the 0x)")
		}
		return b, nil
	}
	return []byte(m), nil
}

func newKeysSignCmd() *cobra.Command {
	var (
		message string
		wrap    bool
	)
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign a message and print the 0x signature",
		Long: `Sign --message with the sr25519 key of a secret URI (signing context
"substrate") and print the signature as 0x hex. A message starting with 0x is
hex-decoded bytes; anything else is signed as UTF-8 text. --wrap signs
<Bytes>message</Bytes>, as the polkadot.js extension's signRaw does.

The secret URI comes from exactly one of --suri, --suri-file or the CELLA_SURI
environment variable; the last two keep it out of the process list.`,
		Example: `  cella keys sign --suri //Alice --message "hello world"
  cella keys sign --suri-file ./alice.suri --message 0x68656c6c6f --wrap
  CELLA_SURI="word1 … word12" cella keys sign --message hello`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			suri, onArgv, err := readSecretURIArgv(cmd, "suri", "suri-file")
			if err != nil {
				return err
			}
			if onArgv {
				warnArgvSecret(cmd.ErrOrStderr(), "--suri", suri, secretSources("suri-file"), nil)
			}
			pair, err := keys.FromURI(suri)
			if err != nil {
				return err
			}
			msg, err := parseMessage(message)
			if err != nil {
				return err
			}
			if wrap {
				msg = keys.WrapBytes(msg)
			}
			sig := pair.Sign(msg)
			_, err = fmt.Fprintln(cmd.OutOrStdout(), sig.Hex())
			return err
		},
	}
	addSecretFlags(cmd, "suri", "the signer")
	cmd.Flags().StringVar(&message, "message", "", "message to sign: text, or bytes as 0x hex")
	cmd.Flags().BoolVar(&wrap, "wrap", false, "sign <Bytes>message</Bytes> (polkadot.js signRaw)")
	_ = cmd.MarkFlagRequired("message")
	return cmd
}

func newKeysVerifyCmd() *cobra.Command {
	var address, message, signature string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify a signature",
		Long: `Verify an sr25519 signature (signing context "substrate") of --message by
--address (SS58 of any network, or a 0x public key). A message starting with 0x
is hex-decoded bytes. A signature over <Bytes>message</Bytes>, as made by the
polkadot.js extension's signRaw, is also accepted and reported as such.

Exits 0 when the signature is valid and 1 when it is not.`,
		Example: `  cella keys verify --address 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY --message "hello world" --signature 0x…`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, err := keys.ParseAccount(address)
			if err != nil {
				return fmt.Errorf("--address: %w", err)
			}
			msg, err := parseMessage(message)
			if err != nil {
				return err
			}
			sig, err := parseSignature(signature)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case keys.Verify(pub, msg, sig):
				fmt.Fprintln(out, "Signature verifies correctly.")
				return nil
			case !keys.IsWrapped(msg) && keys.Verify(pub, keys.WrapBytes(msg), sig):
				fmt.Fprintln(out, "Signature verifies correctly (over <Bytes>message</Bytes>, as signed by polkadot.js signRaw).")
				return nil
			}
			fmt.Fprintln(out, "Signature invalid.")
			return exitError{code: 1}
		},
	}
	cmd.Flags().StringVar(&address, "address", "", "signer's SS58 address or 0x public key")
	cmd.Flags().StringVar(&message, "message", "", "signed message: text, or bytes as 0x hex")
	cmd.Flags().StringVar(&signature, "signature", "", "signature as 0x hex (64 bytes)")
	for _, f := range []string{"address", "message", "signature"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

// parseSignature decodes a 64-byte signature in hex (0x optional). A 65-byte
// MultiSignature whose first byte is 1 (the Sr25519 variant) is accepted too.
func parseSignature(s string) (keys.Signature, error) {
	var sig keys.Signature
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if err != nil {
		return sig, errors.New("--signature is not valid hex")
	}
	if len(b) == 65 && b[0] == 1 {
		b = b[1:]
	}
	if len(b) != len(sig) {
		return sig, fmt.Errorf("--signature has %d bytes, want 64", len(b))
	}
	copy(sig[:], b)
	return sig, nil
}
