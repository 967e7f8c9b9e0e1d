import type { StagePlan } from './plan/index.ts';
import { functionArgs, type FunctionInputs } from './functions.ts';

/**
 * The operations dashboard of this region: one CloudFront distribution (Router) serving the built UI and, under
 * `/api`, the dashboard function's URL; the token the API asks for is a random secret created here. Open
 * `<url>/#token=<secret value>` (docs/deploy.md).
 */
export function createDashboard(plan: StagePlan, inputs: Omit<FunctionInputs, 'dashboardOrigin'>) {
  const dashboard = plan.dashboard;
  const router = new sst.aws.Router('Dashboard');
  const token = new random.RandomId('DashboardToken', { byteLength: 32 });
  const secret = new aws.secretsmanager.Secret('DashboardTokenSecret', { name: dashboard.tokenSecretName, recoveryWindowInDays: 0 });
  new aws.secretsmanager.SecretVersion('DashboardTokenValue', { secretId: secret.id, secretString: token.hex });

  new sst.aws.Function('DashboardApi', {
    ...functionArgs(dashboard, { ...inputs, dashboardOrigin: router.url }),
    // Same origin as the UI through the router: no CORS at all, as on the twin.
    url: { router: { instance: router, path: dashboard.apiPath }, cors: false },
  });
  new sst.aws.StaticSite('DashboardSite', {
    path: '.',
    build: { command: dashboard.site.buildCommand, output: dashboard.site.output },
    router: { instance: router },
  });
  return { url: router.url, tokenSecretName: dashboard.tokenSecretName };
}
