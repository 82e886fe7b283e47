function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The development login page: one email field and a button; the OAuth parameters ride along as hidden fields. */
export function loginPage(params: Record<string, string>, error?: string): string {
  const hidden = Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Keyless development sign-in</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; }
    .warn { background: #fff3cd; border: 1px solid #e0c060; padding: .6rem; }
    .error { color: #a00; }
    input[type=email] { width: 100%; padding: .4rem; margin: .5rem 0; }
  </style>
</head>
<body>
  <h1>Keyless development sign-in</h1>
  <p class="warn">This is a development identity provider: it believes any email address you type. Never trust its tokens in production.</p>
  ${error ? `<p class="error" id="error">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="authorize" id="login-form">
      ${hidden}
      <label for="email">Email address</label>
      <input type="email" name="email" id="email" required autofocus autocomplete="email" placeholder="you@example.com">
      <button type="submit" id="submit">Sign in</button>
  </form>
</body>
</html>
`;
}
