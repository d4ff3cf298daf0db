# pocstack.aws — quick start targets. Every target sets up what it needs.
#   make demo      deploy the plotly PoC on the embedded local AWS emulator: the app image
#                  built from files/app, its ECS task a container, waited for until healthy
#   make test      quality gates, unit, integration and molecule tests (on emulators of their own)
#   make emulator  start the emulator (and, with root, the Docker engine and registry of its
#                  data plane: emulator/docker-setup.sh) if it is not running
#   make stop      stop the emulator (its containers with it)
#   make test-container   the image and the ecr_image build/mirror paths with a real Docker engine

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINK := .collections/ansible_collections/pocstack/aws
EMULATOR := $(BIN)/python emulator/pocstack-emulator
# The demo's emulator; its endpoint is aws_endpoint_url in inventories/local/group_vars/all.
DEMO_PORT ?= 4566
# The tests run their own emulator so that they never touch the demo's state.
TEST_PORT ?= 4567
SERVICE ?= plotly
# The local registry behind the emulator's ECR (emulator/docker-setup.sh starts it).
REGISTRY ?= http://127.0.0.1:5000

.PHONY: demo test unit molecule emulator stop setup clean test-container docker

setup: $(STAMP) $(LINK) $(BIN)/aws $(VENV)/strategy

$(STAMP): requirements.txt requirements-test.txt files/app/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# The AWS CLI, apart from the venv's packages (requirements-aws.txt says why).
$(BIN)/aws: requirements-aws.txt $(STAMP)
	rm -rf $(VENV)/awscli
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --target $(VENV)/awscli -r requirements-aws.txt
	printf '#!/bin/sh\nPYTHONPATH="$$(dirname "$$0")/../awscli" exec "$$(dirname "$$0")/python" -m awscli "$$@"\n' >$@
	chmod +x $@

# mitogen's strategy plugins, where ansible.cfg's strategy_plugins looks
# (ANSIBLE_STRATEGY=mitogen_linear uses them: README, "Faster runs").
$(VENV)/strategy: $(STAMP)
	ln -sfn "$$($(BIN)/python -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')/plugins/strategy" $@

# A checkout runs as the collection pocstack.aws through this link (see ansible.cfg).
$(LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

# The data plane needs a Docker engine: set up when possible (root, or one
# already running); without it the emulator is a control plane only and says so.
emulator: setup
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash emulator/docker-setup.sh start \
	  || echo 'make: no Docker engine (see above): the emulator runs ECS services as a control plane only'
	@if bash emulator/docker-setup.sh status; then registry='--registry=$(REGISTRY)'; fi; \
	  POCSTACK_EMULATOR_PORT=$(DEMO_PORT) $(EMULATOR) start $$registry

stop: setup
	POCSTACK_EMULATOR_PORT=$(DEMO_PORT) $(EMULATOR) stop

demo: emulator
	@echo '+ ansible-playbook site.yml -e service=$(SERVICE)'
	@PATH="$(CURDIR)/$(BIN):$$PATH" POCSTACK_EMULATOR_PORT=$(DEMO_PORT) ansible-playbook site.yml -e service=$(SERVICE)
	@POCSTACK_EMULATOR_PORT=$(DEMO_PORT) $(EMULATOR) status
	@echo 'Open the load balancer'"'"'s HTTPS URL above (https://localhost:8443/ unless that port was taken):'
	@echo '  user admin (or $$PLOTLY_USER), password in .pocstack/local/$(SERVICE)_pass;'
	@echo '  the certificate is signed by a local CA: curl --cacert .pocstack/local/ca.crt https://localhost:8443/health,'
	@echo '  or import .pocstack/local/ca.crt into your browser as an authority (names: localhost, *.pocstack.localhost).'
	@echo 'The emulator keeps running: inspect it with the AWS CLI in .venv, e.g.'
	@echo '  . .venv/bin/activate; export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:$(DEMO_PORT)'
	@echo '  aws ecs describe-services --cluster pocstack --services $(SERVICE) --query "services[0].events[0].message"'
	@echo '  aws logs filter-log-events --log-group-name /pocstack/$(SERVICE) --query "events[].message"; docker ps'
	@echo 'make stop stops the emulator.'

test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" POCSTACK_EMULATOR_PORT=$(TEST_PORT) bash tests/run.sh

# Docker engine, local registry, base image and wheelhouse (see emulator/docker-setup.sh).
docker: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash emulator/docker-setup.sh start

test-container: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" POCSTACK_EMULATOR_PORT=$(TEST_PORT) bash tests/container/run.sh

clean: stop
	rm -rf $(VENV) .collections .pocstack
