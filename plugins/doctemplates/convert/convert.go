// Package convert turns documents into PDF with the converters that render
// every script the CRM serves (Armenian, Persian with joined letters and
// right-to-left lines, Cyrillic, Latin with diacritics): headless Chromium
// for HTML and LibreOffice for DOCX, both Debian packages.
//
// Each conversion runs in a fresh temporary directory with a fresh browser
// or office profile, under a timeout, in a process group that is killed as a
// whole when the time is up, and without the network: inside a network
// namespace of its own (`unshare -rn`) when the kernel allows one, and with
// Chromium's resolver and proxy pointed nowhere in any case. A missing
// program is a *MissingError naming it and its Debian package, never an
// empty or broken file.
//
// It knows nothing of the CRM: it takes bytes and gives bytes.
package convert

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// DefaultTimeout bounds one conversion when the context has no earlier
// deadline.
const DefaultTimeout = 60 * time.Second

// Program is an external converter: the executables that may provide it
// and the Debian package that installs them.
type Program struct {
	Names   []string
	Package string
}

// The converters.
var (
	Chromium = Program{Names: []string{"chromium", "chromium-browser"}, Package: "chromium"}
	Soffice  = Program{Names: []string{"soffice", "libreoffice"}, Package: "libreoffice-writer"}
)

// MissingError is a converter that is not installed.
type MissingError struct {
	Program string
	Package string
}

// Error names the program and how to install it.
func (e *MissingError) Error() string {
	return fmt.Sprintf("the converter %q is not installed: install the Debian package %s (apt-get install %s)", e.Program, e.Package, e.Package)
}

// Path finds the program on PATH, or returns a *MissingError.
func (p Program) Path() (string, error) {
	for _, n := range p.Names {
		if path, err := exec.LookPath(n); err == nil {
			return path, nil
		}
	}
	return "", &MissingError{Program: p.Names[0], Package: p.Package}
}

// Check reports every converter that is missing, joined; nil when all are
// installed.
func Check() error {
	var errs []error
	for _, p := range []Program{Chromium, Soffice} {
		if _, err := p.Path(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HTMLToPDF prints an HTML document to PDF with headless Chromium. The page
// may not load anything from the network; images and fonts must be inline
// (data: URLs) or system fonts.
func HTMLToPDF(ctx context.Context, html []byte) ([]byte, error) {
	bin, err := Chromium.Path()
	if err != nil {
		return nil, err
	}
	return inTempDir(ctx, "html", func(ctx context.Context, dir string) ([]byte, error) {
		in := filepath.Join(dir, "document.html")
		out := filepath.Join(dir, "document.pdf")
		if err := os.WriteFile(in, html, 0o600); err != nil {
			return nil, fmt.Errorf("html to pdf: %w", err)
		}
		args := []string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-extensions", "--disable-dev-shm-usage", "--no-pdf-header-footer",
			`--host-resolver-rules=MAP * ~NOTFOUND`, "--proxy-server=127.0.0.1:9",
			"--user-data-dir=" + filepath.Join(dir, "profile"),
			"--print-to-pdf=" + out, "file://" + in,
		}
		if err := run(ctx, dir, bin, args); err != nil {
			return nil, fmt.Errorf("html to pdf: %w", err)
		}
		return readPDF(out, "html to pdf")
	})
}

// DOCXToPDF converts a DOCX document to PDF with LibreOffice.
func DOCXToPDF(ctx context.Context, docx []byte) ([]byte, error) {
	bin, err := Soffice.Path()
	if err != nil {
		return nil, err
	}
	// LibreOffice reads anything as something (plain text, at worst):
	// refuse what is not a DOCX before it makes a PDF of the garbage.
	if err := checkDOCX(docx); err != nil {
		return nil, fmt.Errorf("docx to pdf: %w", err)
	}
	return inTempDir(ctx, "docx", func(ctx context.Context, dir string) ([]byte, error) {
		in := filepath.Join(dir, "document.docx")
		if err := os.WriteFile(in, docx, 0o600); err != nil {
			return nil, fmt.Errorf("docx to pdf: %w", err)
		}
		args := []string{
			"-env:UserInstallation=file://" + filepath.Join(dir, "profile"),
			"--headless", "--invisible", "--nologo", "--norestore", "--nolockcheck", "--nodefault",
			"--convert-to", "pdf:writer_pdf_Export", "--outdir", filepath.Join(dir, "out"), in,
		}
		if err := run(ctx, dir, bin, args); err != nil {
			return nil, fmt.Errorf("docx to pdf: %w", err)
		}
		return readPDF(filepath.Join(dir, "out", "document.pdf"), "docx to pdf")
	})
}

// inTempDir runs fn in a fresh directory it removes afterwards, under
// DefaultTimeout unless ctx ends sooner.
func inTempDir(ctx context.Context, what string, fn func(context.Context, string) ([]byte, error)) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "crm-convert-"+what+"-")
	if err != nil {
		return nil, fmt.Errorf("%s to pdf: %w", what, err)
	}
	defer os.RemoveAll(dir)
	return fn(ctx, dir)
}

// checkDOCX checks that b is a ZIP package with a word/document.xml.
func checkDOCX(b []byte) error {
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("not a DOCX (not a ZIP package): %w", err)
	}
	for _, f := range z.File {
		if f.Name == "word/document.xml" {
			return nil
		}
	}
	return errors.New("not a DOCX: the package has no word/document.xml")
}

func readPDF(path, op string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: the converter wrote no PDF: %w", op, err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return nil, fmt.Errorf("%s: the converter wrote %d bytes that are not a PDF", op, len(b))
	}
	return b, nil
}

var (
	unshareOnce sync.Once
	unsharePath string
)

// isolation is the command that runs a converter without the network:
// `unshare -rn` (a user and network namespace with only a loopback that is
// down) when this kernel allows it, else nothing (Chromium's own flags
// still point its resolver and proxy nowhere).
func isolation() string {
	unshareOnce.Do(func() {
		p, err := exec.LookPath("unshare")
		if err != nil {
			return
		}
		if exec.Command(p, "-rn", "true").Run() == nil {
			unsharePath = p
		}
	})
	return unsharePath
}

// Isolated reports whether conversions run in a network namespace of their
// own.
func Isolated() bool { return isolation() != "" }

// run runs bin in a process group of its own, killed as a whole when ctx
// ends, with HOME and TMPDIR in dir.
func run(ctx context.Context, dir, bin string, args []string) error {
	name := bin
	if u := isolation(); u != "" {
		args = append([]string{"-rn", bin}, args...)
		name = u
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "TMPDIR=" + dir, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// Whatever happened, nothing of the group may outlive the call (a
	// LibreOffice helper, a Chromium zygote).
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s took longer than allowed and was stopped: %w", filepath.Base(bin), ctx.Err())
	}
	if err != nil {
		msg := out.String()
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		return fmt.Errorf("%s: %w: %s", filepath.Base(bin), err, msg)
	}
	return nil
}
