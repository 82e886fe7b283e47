import { Command } from 'commander';

/** `--github-<flag>` → the claim it sets in a workflow token. */
const GITHUB_FLAGS: Array<[flag: string, claim: string, help: string]> = [
  ['repository', 'repository', 'owner/name: makes a GitHub-Actions-like workflow token (no email claim)'],
  ['ref', 'ref', 'git ref (default refs/heads/main)'],
  ['sha', 'sha', 'commit SHA (default random)'],
  ['event-name', 'event_name', 'trigger (default push)'],
  ['workflow', 'workflow', 'workflow name (default Release)'],
  ['workflow-path', 'workflow_path', 'workflow file (default .github/workflows/release.yml)'],
  ['workflow-ref', 'workflow_ref', 'full workflow ref (default <repository>/<workflow-path>@<ref>)'],
  ['job-workflow-ref', 'job_workflow_ref', 'reusable workflow ref (default the workflow ref)'],
  ['runner-environment', 'runner_environment', 'github-hosted or self-hosted (default github-hosted)'],
  ['repository-visibility', 'repository_visibility', 'public or private (default public)'],
  ['repository-id', 'repository_id', 'repository id (default 1)'],
  ['repository-owner-id', 'repository_owner_id', 'owner id (default 1)'],
  ['run-id', 'run_id', 'run id (default 1)'],
  ['run-attempt', 'run_attempt', 'run attempt (default 1)'],
  ['environment', 'environment', 'deployment environment'],
  ['sub', 'sub', 'subject (default repo:<repository>:ref:<ref>)'],
];

function camel(flag: string): string {
  return `github${flag
    .split('-')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('')}`;
}

export function defineIdpCommands(program: Command): void {
  const cmd = program
    .command('dev-token')
    .description('print an identity token from a Keyless development identity provider (keyless serve), alone on one line')
    .requiredOption('--url <base>', 'base URL of the keyless server (e.g. http://127.0.0.1:3000) or its /oidc issuer URL')
    .option('--email <address>', 'email identity of the token')
    .option('--ttl <seconds>', 'token lifetime in seconds (default 600)')
    .option('--audience <aud>', 'audience (default sigstore)');
  for (const [flag, , help] of GITHUB_FLAGS) cmd.option(`--github-${flag} <value>`, help);
  cmd.action(async (opts: Record<string, string | undefined>, command: Command) => {
    const github: Record<string, string> = {};
    for (const [flag, claim] of GITHUB_FLAGS) {
      const v = opts[camel(flag)];
      if (v !== undefined) github[claim] = v;
    }
    const workflow = Object.keys(github).length > 0;
    if (workflow && github.repository === undefined)
      command.error('error: GitHub workflow claims need --github-repository', { exitCode: 2, code: 'keyless.usage' });
    if (workflow === (opts.email !== undefined))
      command.error('error: give exactly one of --email or --github-repository', { exitCode: 2, code: 'keyless.usage' });
    let ttlSeconds: number | undefined;
    if (opts.ttl !== undefined) {
      if (!/^\d+$/.test(opts.ttl) || Number(opts.ttl) < 1)
        command.error(`error: --ttl must be a positive number of seconds, got ${JSON.stringify(opts.ttl)}`, {
          exitCode: 2,
          code: 'keyless.usage',
        });
      ttlSeconds = Number(opts.ttl);
    }
    const { requestDevToken } = await import('../../services/idp/client.js');
    const token = await requestDevToken({
      url: opts.url!,
      ...(opts.email !== undefined ? { email: opts.email } : {}),
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
      ...(opts.audience !== undefined ? { audience: opts.audience } : {}),
      ...(workflow ? { github } : {}),
    });
    process.stdout.write(`${token}\n`);
  });
}
