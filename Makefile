# pocstack.aws — quick start targets. Every target sets up what it needs.
#   make demo      deploy the plotly PoC on the embedded local AWS emulator
#   make test      unit tests + molecule scenarios (on a separate emulator)
#   make emulator  start the emulator if it is not running
#   make stop      stop the emulator
#   make demo-build       the demo with the app image built and pushed (needs root: installs and starts Docker)
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
# The local registry behind the emulator's ECR (tests/docker/setup.sh starts it).
REGISTRY ?= http://127.0.0.1:5000

.PHONY: demo test unit molecule emulator stop setup clean demo-build test-container docker

setup: $(STAMP) $(LINK)

$(STAMP): requirements.txt requirements-test.txt files/app/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# A checkout runs as the collection pocstack.aws through this link (see ansible.cfg).
$(LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

emulator: setup
	POCSTACK_EMULATOR_PORT=$(DEMO_PORT) $(EMULATOR) start

stop: setup
	POCSTACK_EMULATOR_PORT=$(DEMO_PORT) $(EMULATOR) stop

demo: emulator
	@echo '+ ansible-playbook site.yml -e service=$(SERVICE)'
	@PATH="$(CURDIR)/$(BIN):$$PATH" POCSTACK_EMULATOR_PORT=$(DEMO_PORT) ansible-playbook site.yml -e service=$(SERVICE)
	@echo 'The emulator keeps running: inspect with e.g.'
	@echo '  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url http://127.0.0.1:$(DEMO_PORT) --region us-east-1 elbv2 describe-load-balancers'
	@echo 'make stop stops it.'

test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" POCSTACK_EMULATOR_PORT=$(TEST_PORT) bash tests/run.sh

# Docker engine, local registry, base image and wheelhouse (see tests/docker/setup.sh).
docker: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" bash tests/docker/setup.sh start

# The demo with poc_image.source=build: the app image built from files/app and
# pushed through the emulator (as ECR, with --registry) into the local registry.
demo-build: docker
	POCSTACK_EMULATOR_PORT=$(DEMO_PORT) POCSTACK_EMULATOR_REGISTRY=$(REGISTRY) $(EMULATOR) start
	@curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$(DEMO_PORT)/v2/ | grep -q 401 \
	  || { echo 'The emulator on port $(DEMO_PORT) runs without a registry: make stop, then make demo-build.'; exit 1; }
	@echo '+ ansible-playbook site.yml -e service=$(SERVICE) -e '"'"'{"poc_image": {"source": "build", "repository": "pocstack/$(SERVICE)"}}'"'"
	@PATH="$(CURDIR)/$(BIN):$$PATH" POCSTACK_EMULATOR_PORT=$(DEMO_PORT) ansible-playbook site.yml -e service=$(SERVICE) \
	  -e '{"poc_image": {"source": "build", "repository": "pocstack/$(SERVICE)"}}'

test-container: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" POCSTACK_EMULATOR_PORT=$(TEST_PORT) bash tests/container/run.sh

clean: stop
	rm -rf $(VENV) .collections .pocstack
