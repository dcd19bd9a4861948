// The guestbook as Argo CD's Jsonnet examples write it: top-level arguments for what changes
// between environments, an external variable for the environment's name.
local k = import 'k8s.libsonnet';
local params = import 'params.libsonnet';

function(replicas, image='nginx:1.27')
  [
    k.deployment(params.name, replicas, image, std.extVar('env')),
    k.service(params.name),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: params.name + '-settings' },
      data: { greeting: params.greeting, replicas: std.toString(replicas) },
    },
  ]
