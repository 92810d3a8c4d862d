-- Teams and their members, and the helpers every policy uses to ask
-- "is the caller in this team?".

CREATE SCHEMA IF NOT EXISTS quantdesk;
GRANT USAGE ON SCHEMA quantdesk TO authenticated;

CREATE TABLE public.teams (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner uuid NOT NULL DEFAULT auth.uid(),
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.team_members (
  team_id uuid NOT NULL REFERENCES public.teams (id) ON DELETE CASCADE,
  user_id uuid NOT NULL,
  role text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
  owner uuid NOT NULL DEFAULT auth.uid(),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON public.team_members (user_id);

-- SECURITY DEFINER so a policy on one table can look at team membership
-- without re-entering team_members' own policies (which would recurse).
-- A team's owner counts as a member.
CREATE FUNCTION quantdesk.is_team_member(team uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
  AS $$
    SELECT EXISTS (
      SELECT 1 FROM public.team_members m WHERE m.team_id = team AND m.user_id = auth.uid()
    ) OR EXISTS (
      SELECT 1 FROM public.teams t WHERE t.id = team AND t.owner = auth.uid()
    )
  $$;

CREATE FUNCTION quantdesk.is_team_owner(team uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
  AS $$
    SELECT EXISTS (SELECT 1 FROM public.teams t WHERE t.id = team AND t.owner = auth.uid())
  $$;

REVOKE ALL ON FUNCTION quantdesk.is_team_member(uuid), quantdesk.is_team_owner(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION quantdesk.is_team_member(uuid), quantdesk.is_team_owner(uuid) TO authenticated;

ALTER TABLE public.teams ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.teams FORCE ROW LEVEL SECURITY;
CREATE POLICY teams_select ON public.teams FOR SELECT TO authenticated
  USING (owner = auth.uid() OR quantdesk.is_team_member(id));
CREATE POLICY teams_insert ON public.teams FOR INSERT TO authenticated
  WITH CHECK (owner = auth.uid());
CREATE POLICY teams_update ON public.teams FOR UPDATE TO authenticated
  USING (owner = auth.uid()) WITH CHECK (owner = auth.uid());
CREATE POLICY teams_delete ON public.teams FOR DELETE TO authenticated
  USING (owner = auth.uid());

ALTER TABLE public.team_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.team_members FORCE ROW LEVEL SECURITY;
-- Members see their team's roster; only the team's owner changes it; anyone
-- may leave a team.
CREATE POLICY team_members_select ON public.team_members FOR SELECT TO authenticated
  USING (user_id = auth.uid() OR quantdesk.is_team_member(team_id));
CREATE POLICY team_members_insert ON public.team_members FOR INSERT TO authenticated
  WITH CHECK (owner = auth.uid() AND quantdesk.is_team_owner(team_id));
CREATE POLICY team_members_update ON public.team_members FOR UPDATE TO authenticated
  USING (quantdesk.is_team_owner(team_id)) WITH CHECK (quantdesk.is_team_owner(team_id));
CREATE POLICY team_members_delete ON public.team_members FOR DELETE TO authenticated
  USING (quantdesk.is_team_owner(team_id) OR user_id = auth.uid());

GRANT SELECT, INSERT, UPDATE, DELETE ON public.teams, public.team_members TO authenticated;

-- Row-level security for a table whose rows belong to `owner` and may be
-- shared read-only with a team: owners do everything with their own rows, team
-- members read rows tagged with their team, nobody else sees anything.
CREATE FUNCTION quantdesk.secure_owned_table(tbl regclass) RETURNS void
  LANGUAGE plpgsql
  AS $$
  DECLARE
    name text := (SELECT c.relname FROM pg_class c WHERE c.oid = tbl);
    team_ok text := '(team_id IS NULL OR quantdesk.is_team_member(team_id))';
  BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('CREATE POLICY %I ON %s FOR SELECT TO authenticated USING (owner = auth.uid())',
                   name || '_owner_select', tbl);
    EXECUTE format('CREATE POLICY %I ON %s FOR SELECT TO authenticated '
                   'USING (team_id IS NOT NULL AND quantdesk.is_team_member(team_id))',
                   name || '_team_select', tbl);
    EXECUTE format('CREATE POLICY %I ON %s FOR INSERT TO authenticated WITH CHECK (owner = auth.uid() AND %s)',
                   name || '_owner_insert', tbl, team_ok);
    EXECUTE format('CREATE POLICY %I ON %s FOR UPDATE TO authenticated USING (owner = auth.uid()) '
                   'WITH CHECK (owner = auth.uid() AND %s)', name || '_owner_update', tbl, team_ok);
    EXECUTE format('CREATE POLICY %I ON %s FOR DELETE TO authenticated USING (owner = auth.uid())',
                   name || '_owner_delete', tbl);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO authenticated', tbl);
  END
  $$;
REVOKE ALL ON FUNCTION quantdesk.secure_owned_table(regclass) FROM PUBLIC;
