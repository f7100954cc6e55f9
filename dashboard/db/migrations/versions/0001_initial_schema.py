"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 19:24:57.294108
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('name', name=op.f('uq_departments_name'))
    )
    op.create_table('stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('branch', sa.String(length=64), nullable=False),
    sa.Column('centroid_lat', sa.Float(), nullable=False),
    sa.Column('centroid_lon', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stations')),
    sa.UniqueConstraint('code', name=op.f('uq_stations_code'))
    )
    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('centroid_lat', sa.Float(), nullable=False),
    sa.Column('centroid_lon', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_communities_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('code', name=op.f('uq_communities_code'))
    )
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_communities_station_id'), ['station_id'], unique=False)

    op.create_table('grids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('boundary_geojson', sa.Text(), nullable=False),
    sa.Column('area_km2', sa.Float(), nullable=False),
    sa.Column('centroid_lat', sa.Float(), nullable=False),
    sa.Column('centroid_lon', sa.Float(), nullable=False),
    sa.Column('h3', sa.String(length=16), nullable=False),
    sa.Column('population', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_grids_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grids')),
    sa.UniqueConstraint('code', name=op.f('uq_grids_code'))
    )
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grids_community_id'), ['community_id'], unique=False)

    op.create_table('officers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('badge', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_officers_community_id_communities')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_officers_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officers'))
    )
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officers_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_officers_station_id'), ['station_id'], unique=False)

    op.create_table('patrol_teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('members', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_patrol_teams_community_id_communities')),
    sa.ForeignKeyConstraint(['station_id'], ['stations.id'], name=op.f('fk_patrol_teams_station_id_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_teams'))
    )
    with op.batch_alter_table('patrol_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patrol_teams_station_id'), ['station_id'], unique=False)

    op.create_table('cameras',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('h3', sa.String(length=16), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_cameras_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cameras'))
    )
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cameras_grid_id'), ['grid_id'], unique=False)

    op.create_table('compounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('buildings', sa.Integer(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('h3', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_compounds_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compounds'))
    )
    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compounds_grid_id'), ['grid_id'], unique=False)

    op.create_table('grid_workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_grid_workers_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_workers'))
    )
    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_workers_grid_id'), ['grid_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('arrived_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('subtype', sa.String(length=32), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('h3', sa.String(length=16), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('place', sa.String(length=128), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_incidents_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_grid_received', ['grid_id', 'received_at'], unique=False)
        batch_op.create_index('ix_incidents_h3', ['h3'], unique=False)
        batch_op.create_index('ix_incidents_received', ['received_at'], unique=False)

    op.create_table('patrol_shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('shift', sa.String(length=4), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('prevented', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('caught', sa.SmallInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['patrol_teams.id'], name=op.f('fk_patrol_shifts_team_id_patrol_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_shifts'))
    )
    with op.batch_alter_table('patrol_shifts', schema=None) as batch_op:
        batch_op.create_index('ix_patrol_shifts_started', ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patrol_shifts_team_id'), ['team_id'], unique=False)

    op.create_table('base_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('h3', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('collected_at', sa.DateTime(), nullable=False),
    sa.Column('collector_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['collector_id'], ['grid_workers.id'], name=op.f('fk_base_records_collector_id_grid_workers')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_base_records_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_base_records'))
    )
    with op.batch_alter_table('base_records', schema=None) as batch_op:
        batch_op.create_index('ix_base_records_collected', ['collected_at'], unique=False)
        batch_op.create_index('ix_base_records_grid_kind', ['grid_id', 'kind'], unique=False)

    op.create_table('patrol_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('h3', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_patrol_points_grid_id_grids')),
    sa.ForeignKeyConstraint(['shift_id'], ['patrol_shifts.id'], name=op.f('fk_patrol_points_shift_id_patrol_shifts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_points'))
    )
    with op.batch_alter_table('patrol_points', schema=None) as batch_op:
        batch_op.create_index('ix_patrol_points_at', ['at'], unique=False)
        batch_op.create_index('ix_patrol_points_grid_at', ['grid_id', 'at'], unique=False)
        batch_op.create_index('ix_patrol_points_shift', ['shift_id', 'at'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('h3', sa.String(length=16), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('place', sa.String(length=128), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('urgency', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), server_default='网格通', nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_reports_grid_id_grids')),
    sa.ForeignKeyConstraint(['reporter_id'], ['grid_workers.id'], name=op.f('fk_reports_reporter_id_grid_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_grid_time', ['grid_id', 'reported_at'], unique=False)
        batch_op.create_index('ix_reports_h3', ['h3'], unique=False)
        batch_op.create_index('ix_reports_time', ['reported_at'], unique=False)

    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('h3', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('parties', sa.SmallInteger(), server_default='2', nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('visit_due_at', sa.DateTime(), nullable=True),
    sa.Column('visited_at', sa.DateTime(), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_disputes_grid_id_grids')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_disputes_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index('ix_disputes_closed', ['closed_at'], unique=False)
        batch_op.create_index('ix_disputes_found', ['found_at'], unique=False)
        batch_op.create_index('ix_disputes_grid_found', ['grid_id', 'found_at'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('h3', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('urgency', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('dispatched_at', sa.DateTime(), nullable=True),
    sa.Column('deadline_at', sa.DateTime(), nullable=True),
    sa.Column('feedback_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('visited_at', sa.DateTime(), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('transfer_count', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_tasks_department_id_departments')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_tasks_grid_id_grids')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_tasks_officer_id_officers')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_tasks_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_created', ['created_at'], unique=False)
        batch_op.create_index('ix_tasks_grid_created', ['grid_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_report_id'), ['report_id'], unique=False)
        batch_op.create_index('ix_tasks_state_deadline', ['state', 'deadline_at'], unique=False)

    op.create_table('mediation_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('mediator', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_mediation_steps_dispute_id_disputes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_steps'))
    )
    with op.batch_alter_table('mediation_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_steps_dispute_id'), ['dispute_id'], unique=False)

    op.create_table('task_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('event', sa.String(length=8), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('to_state', sa.String(length=8), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('deadline_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_task_events_department_id_departments')),
    sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_task_events_officer_id_officers')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_events_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_events'))
    )
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.create_index('ix_task_events_at', ['at'], unique=False)
        batch_op.create_index('ix_task_events_task_seq', ['task_id', 'seq'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('task_events', schema=None) as batch_op:
        batch_op.drop_index('ix_task_events_task_seq')
        batch_op.drop_index('ix_task_events_at')

    op.drop_table('task_events')
    with op.batch_alter_table('mediation_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediation_steps_dispute_id'))

    op.drop_table('mediation_steps')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_state_deadline')
        batch_op.drop_index(batch_op.f('ix_tasks_report_id'))
        batch_op.drop_index('ix_tasks_grid_created')
        batch_op.drop_index('ix_tasks_created')

    op.drop_table('tasks')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index('ix_disputes_grid_found')
        batch_op.drop_index('ix_disputes_found')
        batch_op.drop_index('ix_disputes_closed')

    op.drop_table('disputes')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_time')
        batch_op.drop_index('ix_reports_h3')
        batch_op.drop_index('ix_reports_grid_time')

    op.drop_table('reports')
    with op.batch_alter_table('patrol_points', schema=None) as batch_op:
        batch_op.drop_index('ix_patrol_points_shift')
        batch_op.drop_index('ix_patrol_points_grid_at')
        batch_op.drop_index('ix_patrol_points_at')

    op.drop_table('patrol_points')
    with op.batch_alter_table('base_records', schema=None) as batch_op:
        batch_op.drop_index('ix_base_records_grid_kind')
        batch_op.drop_index('ix_base_records_collected')

    op.drop_table('base_records')
    with op.batch_alter_table('patrol_shifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_shifts_team_id'))
        batch_op.drop_index('ix_patrol_shifts_started')

    op.drop_table('patrol_shifts')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_received')
        batch_op.drop_index('ix_incidents_h3')
        batch_op.drop_index('ix_incidents_grid_received')

    op.drop_table('incidents')
    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_workers_grid_id'))

    op.drop_table('grid_workers')
    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compounds_grid_id'))

    op.drop_table('compounds')
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cameras_grid_id'))

    op.drop_table('cameras')
    with op.batch_alter_table('patrol_teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patrol_teams_station_id'))

    op.drop_table('patrol_teams')
    with op.batch_alter_table('officers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officers_station_id'))
        batch_op.drop_index(batch_op.f('ix_officers_community_id'))

    op.drop_table('officers')
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grids_community_id'))

    op.drop_table('grids')
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_communities_station_id'))

    op.drop_table('communities')
    op.drop_table('stations')
    op.drop_table('departments')
