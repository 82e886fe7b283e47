function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The device-flow page: the user code (pre-filled from the link) and an email, or a confirmation. */
export function devicePage(userCode: string, state: 'form' | 'done', error?: string): string {
  const body =
    state === 'done'
      ? '<p id="done">Signed in. You can close this window and return to your terminal.</p>'
      : `${error ? `<p class="error" id="error">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="device" id="device-form">
      <label for="user_code">Code shown in your terminal</label>
      <input type="text" name="user_code" id="user_code" required value="${escapeHtml(userCode)}">
      <label for="email">Email address</label>
      <input type="email" name="email" id="email" required autocomplete="email" placeholder="you@example.com">
      <button type="submit" id="submit">Sign in</button>
  </form>`;
  return page(body);
}

function page(body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Keyless development sign-in</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; }
    .warn { background: #fff3cd; border: 1px solid #e0c060; padding: .6rem; }
    .error { color: #a00; }
    input[type=email], input[type=text] { width: 100%; padding: .4rem; margin: .5rem 0; }
  </style>
</head>
<body>
  <h1>Keyless development sign-in</h1>
  <p class="warn">This is a development identity provider: it believes any email address you type. Never trust its tokens in production.</p>
  ${body}
</body>
</html>
`;
}

/** The development login page: one email field and a button; the OAuth parameters ride along as hidden fields. */
export function loginPage(params: Record<string, string>, error?: string): string {
  const hidden = Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n      ');
  return page(`${error ? `<p class="error" id="error">${escapeHtml(error)}</p>` : ''}
  <form method="post" action="authorize" id="login-form">
      ${hidden}
      <label for="email">Email address</label>
      <input type="email" name="email" id="email" required autofocus autocomplete="email" placeholder="you@example.com">
      <button type="submit" id="submit">Sign in</button>
  </form>`);
}
