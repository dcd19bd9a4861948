// A small library, as teams keep one beside their apps (found through the app's library path).
{
  deployment(name, replicas, image, env):: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: name, labels: { app: name, env: env } },
    spec: {
      replicas: replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: name, image: image, ports: [{ containerPort: 80 }] }] },
      },
    },
  },
  service(name):: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: name },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 80 }] },
  },
}
