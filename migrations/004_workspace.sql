-- Shared workspace state a desk keeps beyond Redis: alerts and screen layouts.

CREATE TABLE public.alerts (
  id text NOT NULL DEFAULT gen_random_uuid()::text,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  venue text NOT NULL DEFAULT '',
  market text NOT NULL DEFAULT '',
  condition jsonb NOT NULL DEFAULT '{}'::jsonb,  -- e.g. {"field": "mark", "op": ">=", "value": "150"}
  message text NOT NULL DEFAULT '',
  active boolean NOT NULL DEFAULT true,
  triggered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);

CREATE TABLE public.layouts (
  id text NOT NULL DEFAULT gen_random_uuid()::text,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  name text NOT NULL,
  body text NOT NULL,  -- the layout file's TOML
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id),
  UNIQUE (owner, name)
);

SELECT quantdesk.secure_owned_table(t)
FROM unnest(ARRAY['public.alerts', 'public.layouts']::regclass[]) AS t;
